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
	// sessionSeen is when the idle clock was last restarted (Unix seconds).
	sessionSeen = "seen"
)

// The idle timeout is kept here rather than by scs: scs's IdleTimeout
// writes the session row back on every request to move its expiry, which
// made every signed-in request a write. Instead the session records when it
// was last seen, and that is written back only when it has fallen behind by
// seenResolution: a session still ends within that of its idle timeout
// after its last use, on every instance alike, as the row is shared.

// seenResolution is how stale the seen time may get before a request
// writes it back: a minute, or less for very short idle timeouts (tests).
func seenResolution(idle time.Duration) time.Duration { return min(time.Minute, idle/10) }

func newSessionManager(cfg config.Config, store scs.Store) *scs.SessionManager {
	sm := scs.New()
	sm.Store = store
	// No scs IdleTimeout (see above): the row expires at the absolute
	// lifetime, and loadUser ends a session idle for too long.
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

// loadUser puts the signed-in user in the request context. A session idle
// for longer than the idle timeout ends. A session whose user was
// deactivated, or whose epoch is behind the user's (password changed,
// deactivated and reactivated), is destroyed: that is how an admin ends
// someone's sessions at once.
func (s *Server) loadUser(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		id := s.sessions.GetInt64(ctx, sessionUserID)
		if id == 0 {
			next.ServeHTTP(w, r)
			return
		}
		now := s.now()
		seen := s.sessions.GetInt64(ctx, sessionSeen)
		if seen == 0 {
			// A session from before the seen time was kept: scs expired
			// those by idleness itself, so one still found is in use.
			s.sessions.Put(ctx, sessionSeen, now.Unix())
		} else if idle := now.Sub(time.Unix(seen, 0)); idle >= s.cfg.SessionIdleTimeout {
			if err := s.sessions.Destroy(ctx); err != nil {
				s.fail(w, r, err)
				return
			}
			next.ServeHTTP(w, r)
			return
		} else if idle >= seenResolution(s.cfg.SessionIdleTimeout) {
			s.sessions.Put(ctx, sessionSeen, now.Unix())
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
	s.sessions.Put(ctx, sessionSeen, s.now().Unix())
	return nil
}

// keepAlive restarts the session's idle clock now ("Stay signed in").
func (s *Server) keepAlive(ctx context.Context) { s.sessions.Put(ctx, sessionSeen, s.now().Unix()) }

// idleRemaining is how long the session of the request has before its
// idle timeout, for the page's warning: the seen time may lag the last
// request by up to seenResolution, and the page must not promise more.
func (s *Server) idleRemaining(ctx context.Context) time.Duration {
	seen := time.Unix(s.sessions.GetInt64(ctx, sessionSeen), 0)
	return max(0, s.cfg.SessionIdleTimeout-s.now().Sub(seen))
}

// flash stores a one-time message shown on the next page.
func (s *Server) flash(ctx context.Context, msg string) { s.sessions.Put(ctx, sessionFlash, msg) }
