// Package server is the tracker's HTTP side: the route table, the
// middleware every request passes through, one file per resource, and the
// one place where errors become responses.
package server

import (
	"context"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"ccgtracker/internal/auth"
	"ccgtracker/internal/billing"
	"ccgtracker/internal/config"
	"ccgtracker/internal/ledger"
	"ccgtracker/internal/nightly"
	"ccgtracker/internal/order"
	"ccgtracker/internal/org"
	"ccgtracker/internal/procurement"
	"ccgtracker/internal/tracker"
	"ccgtracker/web"
)

// Server holds what the handlers share. Build it with New.
type Server struct {
	cfg      config.Config
	pool     *pgxpool.Pool
	log      *slog.Logger
	sessions *scs.SessionManager
	static   fs.FS
	now      func() time.Time
	throttle auth.Throttle
	sleep    func(context.Context, time.Duration)
	handler  http.Handler
	mux      *chi.Mux
	// pageAccess is who may open each GET route, by pattern, for the menu.
	pageAccess map[string]access
	// downloads holds a token for each download streaming (stream.go).
	downloads chan struct{}

	// The domain packages' commands, each store on the server's clock.
	billing      *billing.Service // reconciliation, computed once per input version, and closing months
	ledger       *ledger.Store    // the service ledger's and agreements' commands
	tracker      *tracker.Store   // the returns' commands
	nightly      *nightly.Store   // the night's run, for "Run now"
	users        *auth.Store      // the users, their links and sign-ins
	orgs         *org.Store       // CCGs' due days, the ODS and list-size imports
	orders       *order.Store     // call-off orders, their items and recipients
	procurements *procurement.Store
}

// Option changes a default of New, for tests.
type Option func(*Server)

// WithClock makes the server take the time from now.
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// WithThrottle replaces the sign-in throttle policy.
func WithThrottle(th auth.Throttle) Option { return func(s *Server) { s.throttle = th } }

// New builds the server and its routes.
func New(cfg config.Config, pool *pgxpool.Pool, log *slog.Logger, opts ...Option) *Server {
	s := &Server{
		cfg:      cfg,
		pool:     pool,
		log:      log,
		static:   web.Static(),
		now:      time.Now,
		throttle: auth.DefaultThrottle,
		sleep: func(ctx context.Context, d time.Duration) {
			select {
			case <-time.After(d):
			case <-ctx.Done():
			}
		},
	}
	for _, o := range opts {
		o(s)
	}
	// The stores take the server's clock as it is at each command, so a
	// test's WithClock is theirs too.
	clock := func() time.Time { return s.now() }
	s.billing = billing.NewService(pool, clock)
	s.ledger = ledger.NewStore(pool, clock)
	s.tracker = tracker.NewStore(pool, clock)
	s.nightly = nightly.NewStore(pool, clock)
	s.users = auth.NewStore(pool, clock)
	s.orgs = org.NewStore(pool, clock)
	s.orders = order.NewStore(pool, clock)
	s.procurements = procurement.NewStore(pool, clock)
	s.downloads = make(chan struct{}, downloadSlots(int(pool.Config().MaxConns)))
	// Expired sessions are deleted by the housekeeping of `tracker serve`.
	// The store records each session's user, so a change to a user can
	// sign them out everywhere at once (auth.SessionStore).
	s.sessions = newSessionManager(cfg, auth.SessionStore{Pool: pool, UserKey: sessionUserID})
	// A session that cannot be loaded or saved (the database busy or down)
	// gets the service's own error page, not scs's plain text.
	// /healthz answers for the process, whatever the database does.
	s.sessions.ErrorFunc = func(w http.ResponseWriter, r *http.Request, err error) {
		if r.URL.Path == "/healthz" {
			_ = s.healthz(w, r)
			return
		}
		s.fail(w, r, err)
	}
	s.handler = s.buildHandler()
	return s
}

// withSessions loads the session and its user for every request but those
// for the static files, which never need one: a page's stylesheet, script
// and images then cost no database work.
func (s *Server) withSessions(next http.Handler) http.Handler {
	loaded := s.sessions.LoadAndSave(s.loadUser(next))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/static/") || strings.HasPrefix(r.URL.Path, "/assets/") {
			next.ServeHTTP(w, r)
			return
		}
		loaded.ServeHTTP(w, r)
	})
}

// ServeHTTP serves a request through the middleware and the route table.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// buildHandler wraps the router in the middleware, outermost first: every
// response gets a request id, is logged, survives a panic, carries the
// security headers and is refused if it is a cross-origin state change or
// carries bytes the database cannot store, before the session is loaded.
func (s *Server) buildHandler() http.Handler {
	r := chi.NewRouter()
	r.NotFound(s.adapt(func(http.ResponseWriter, *http.Request) error { return errNotFound }).ServeHTTP)
	r.MethodNotAllowed(s.adapt(func(http.ResponseWriter, *http.Request) error { return errNotFound }).ServeHTTP)
	s.register(r)
	s.mux = r

	h := s.withSessions(r)
	h = s.refuseUnreadableInput(h)
	h = s.crossOriginProtection(h)
	h = securityHeaders(s.cfg.Secure(), h)
	h = s.recoverPanics(h)
	h = s.logRequests(h)
	h = requestID(h)
	return h
}
