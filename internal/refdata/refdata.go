// Package refdata ships the public NHS reference data the tracker is seeded
// from, embedded in the binary. See README.md in this folder for each file's
// source and licence (Open Government Licence v3.0 and MIT).
package refdata

import (
	"embed"
	"io/fs"
)

//go:embed data/*.csv
var files embed.FS

// FS returns the data files, each at its own name (for example
// "gp-reg-pat-prac-map.csv").
func FS() fs.FS {
	sub, err := fs.Sub(files, "data")
	if err != nil {
		panic(err) // the embedded folder is fixed at build time
	}
	return sub
}
