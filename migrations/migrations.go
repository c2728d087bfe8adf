// Package migrations holds the database schema as golang-migrate SQL files,
// embedded so that the one binary can migrate any database it is pointed at.
package migrations

import (
	"embed"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
)

// FS holds every NNNNNN_name.up.sql and .down.sql file of this folder.
//
//go:embed *.sql
var FS embed.FS

// Latest is the highest migration version embedded in the binary: the schema
// version the code expects. serve refuses to start on a database behind it.
func Latest() (uint, error) {
	entries, err := fs.ReadDir(FS, ".")
	if err != nil {
		return 0, fmt.Errorf("read embedded migrations: %w", err)
	}
	var latest uint
	for _, e := range entries {
		head, _, ok := strings.Cut(e.Name(), "_")
		if !ok {
			continue
		}
		v, err := strconv.ParseUint(head, 10, 32)
		if err != nil {
			return 0, fmt.Errorf("migration %q: version is not a number", e.Name())
		}
		latest = max(latest, uint(v))
	}
	return latest, nil
}
