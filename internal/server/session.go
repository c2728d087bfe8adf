package server

import (
	"context"
	"net/http"
	"time"

	"github.com/alexedwards/scs/v2"

	"ccgtracker/internal/apperr"
	"ccgtracker/internal/auth"
	"ccgtracker/internal/config"
)

// Session keys.
const (
	sessionUserID = "user_id"
	sessionEpoch  = "epoch"
	sessionFlash  = "flash"
)

func newSessionManager(cfg config.Config, store scs.Store) *scs.SessionManager {
	sm := scs.New()
	sm.Store = store
	sm.IdleTimeout = cfg.SessionIdleTimeout
	sm.Lifetime = cfg.SessionLifetime
	sm.Cookie.Name = "session"
	sm.Cookie.HttpOnly = true
	sm.Cookie.SameSite = http.SameSiteLaxMode
	sm.Cookie.Path = "/"
	if cfg.Secure() {
		// __Host- binds the cookie to this exact host over https.
		sm.Cookie.Name = "__Host-session"
		sm.Cookie.Secure = true
	}
	return sm
}

type userKey struct{}

// currentUser returns the signed-in user of the request, or nil.
func currentUser(r *http.Request) *auth.User {
	u, _ := r.Context().Value(userKey{}).(*auth.User)
	return u
}

// loadUser puts the signed-in user in the request context. A session whose
// user was deactivated, or whose epoch is behind the user's (password
// changed, deactivated and reactivated), is destroyed: that is how an admin
// ends someone's sessions at once.
func (s *Server) loadUser(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		id := s.sessions.GetInt64(ctx, sessionUserID)
		if id == 0 {
			next.ServeHTTP(w, r)
			return
		}
		u, err := auth.GetUser(ctx, s.pool, id)
		if err != nil && !apperr.Is(err, apperr.NotFound) {
			s.fail(w, r, err)
			return
		}
		if err != nil || !u.Active || u.SessionEpoch != s.sessions.GetInt(ctx, sessionEpoch) {
			if err := s.sessions.Destroy(ctx); err != nil {
				s.fail(w, r, err)
				return
			}
			next.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(ctx, userKey{}, &u)))
	})
}

// signIn starts a fresh session for u: the token is renewed so that a
// session id planted before sign-in is worth nothing after it.
func (s *Server) signIn(ctx context.Context, u auth.User) error {
	if err := s.sessions.RenewToken(ctx); err != nil {
		return err
	}
	s.sessions.Put(ctx, sessionUserID, u.ID)
	s.sessions.Put(ctx, sessionEpoch, u.SessionEpoch)
	return nil
}

// flash stores a one-time message shown on the next page.
func (s *Server) flash(ctx context.Context, msg string) { s.sessions.Put(ctx, sessionFlash, msg) }

// idleTimeout is the idle timeout as the session warning needs it.
func (s *Server) idleTimeout() time.Duration { return s.sessions.IdleTimeout }
