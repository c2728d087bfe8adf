package server

import (
	"bytes"
	"errors"
	"net/http"
)

var errInternalForTest = errors.New("connection to 10.0.0.1 failed: secret detail")

// recorder is a minimal ResponseWriter for calling fail directly.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) WriteHeader(status int)      { r.status = status }
func (r *recorder) Write(b []byte) (int, error) { return r.body.Write(b) }
