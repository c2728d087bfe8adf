package order_test

import (
	"bytes"
	"runtime"
	"strings"
	"testing"

	"ccgtracker/internal/order"
)

// A list of practices of one row of a million commas (the server's 1 MB
// limit) is refused at once, saying why, without building the row. Not
// parallel: nothing else allocates while it measures.
func TestRecipientCSVOfOneEnormousRowIsRefusedInLittleMemory(t *testing.T) {
	file := []byte("A81001\n" + strings.Repeat(",", 1<<20-8))
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	codes, problems := order.ParseRecipientCSV(bytes.NewReader(file))
	runtime.ReadMemStats(&after)
	n := after.TotalAlloc - before.TotalAlloc
	t.Logf("%d KB file: %.1f MB allocated", len(file)>>10, float64(n)/(1<<20))
	if n > 10<<20 {
		t.Errorf("reading allocated %.0f MB, want under 10 MB", float64(n)/(1<<20))
	}
	if len(codes) != 0 || len(problems) != 1 || !strings.Contains(problems[0], "Row 2 has more than 200 cells") {
		t.Errorf("codes %v, problems %v", codes, problems)
	}
}
