package server

import (
	"context"
	"net/http"
	"time"

	"ccgtracker/internal/postgres"
)

// healthz answers while the process is up: for a load balancer's liveness
// check, it touches nothing else.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, err := w.Write([]byte("ok\n"))
	return err
}

// readyz answers 200 only when the database answers and its schema is the
// one this build expects, so traffic goes only to instances that can serve.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := s.pool.Ping(ctx); err != nil {
		s.log.WarnContext(ctx, "not ready: database unreachable", "err", err)
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("database unreachable\n"))
		return nil
	}
	if err := postgres.CheckSchema(ctx, s.pool); err != nil {
		s.log.WarnContext(ctx, "not ready: schema", "err", err)
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("database schema not current\n"))
		return nil
	}
	_, err := w.Write([]byte("ready\n"))
	return err
}
