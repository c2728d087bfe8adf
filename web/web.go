// Package web holds everything a browser receives: the templ components in
// views/ and the static assets in static/ (the NHS.UK design system is
// copied into static/vendor by `make assets`).
package web

import (
	"embed"
	"io/fs"
)

//go:embed static
var static embed.FS

// Static returns the static assets, rooted at the static folder.
func Static() fs.FS {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // fixed at build time
	}
	return sub
}
