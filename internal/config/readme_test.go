package config

import (
	"os"
	"strings"
	"testing"
)

// The README's configuration table must name every variable Load reads,
// with its default, so the documentation cannot drift from the code.
func TestREADMEDocumentsEveryVariable(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	for _, v := range Vars {
		row := "| `" + v.Name + "` |"
		if !strings.Contains(readme, row) {
			t.Errorf("README has no row for %s", v.Name)
			continue
		}
		if v.Default != "" && !strings.Contains(readme, row+" `"+v.Default+"` |") {
			t.Errorf("README row for %s does not give its default %q", v.Name, v.Default)
		}
	}
}
