package server

import (
	"io/fs"
	"net/http"
	"strings"
)

// staticFiles serves web/static: the app's CSS and JS, and the design
// system copied into vendor/.
func (s *Server) staticFiles(w http.ResponseWriter, r *http.Request) error {
	return s.serveFS(w, r, s.static, strings.TrimPrefix(r.URL.Path, "/static/"))
}

// designSystemAssets serves the NHS.UK design system's images at /assets/,
// where its CSS refers to them.
func (s *Server) designSystemAssets(w http.ResponseWriter, r *http.Request) error {
	return s.serveFS(w, r, s.static, "vendor/"+strings.TrimPrefix(r.URL.Path, "/"))
}

func (s *Server) serveFS(w http.ResponseWriter, r *http.Request, fsys fs.FS, name string) error {
	if name == "" || strings.HasSuffix(name, "/") || !fs.ValidPath(name) {
		return errNotFound
	}
	st, err := fs.Stat(fsys, name)
	if err != nil || st.IsDir() {
		return errNotFound
	}
	// Assets change only with a new build; an hour's caching is safe and
	// keeps pages fast without fingerprinted names.
	w.Header().Set("Cache-Control", "public, max-age=3600")
	http.ServeFileFS(w, r, fsys, name)
	return nil
}
