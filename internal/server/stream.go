package server

import (
	"context"
	"net/http"
	"time"
)

// Downloads (the reconciliation exports) stream for as long as the client
// reads, so they are treated apart from pages in two ways. A slot: at most
// a quarter of the pool's connections' worth of downloads run at once, and
// the rest wait their turn. A download streams from the month billing keeps
// in memory and holds no connection while it writes, but building a month
// it does not yet have takes one, and each download takes CPU: the slots
// keep a burst of downloads from crowding out pages. And a moving write
// deadline: the server's WriteTimeout would cut a long download that is
// making progress, and a client that stops reading must not keep its slot;
// each write gets downloadWriteWindow to go through instead.

// downloadWriteWindow to go through instead.

// downloadWriteWindow is how long one write of a download may take.
const downloadWriteWindow = 30 * time.Second

// downloadSlots is how many downloads may stream at once for a pool of
// maxConns connections.
func downloadSlots(maxConns int) int { return max(1, maxConns/4) }

// withDownloadSlot runs fn once a download slot is free, or fails with the
// context's error when the client goes away first.
func (s *Server) withDownloadSlot(ctx context.Context, fn func() error) error {
	select {
	case s.downloads <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-s.downloads }()
	return fn()
}

// streamWriter is the response of a download: every write first moves the
// connection's write deadline downloadWriteWindow ahead.
type streamWriter struct {
	http.ResponseWriter
	rc *http.ResponseController
}

func newStreamWriter(w http.ResponseWriter) *streamWriter {
	return &streamWriter{ResponseWriter: w, rc: http.NewResponseController(w)}
}

func (sw *streamWriter) Write(b []byte) (int, error) {
	// Not every ResponseWriter supports deadlines (test recorders): then
	// the server's own timeouts are all there is.
	_ = sw.rc.SetWriteDeadline(time.Now().Add(downloadWriteWindow))
	return sw.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the real writer.
func (sw *streamWriter) Unwrap() http.ResponseWriter { return sw.ResponseWriter }
