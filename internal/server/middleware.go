package server

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"ccgtracker/internal/apperr"

	"ccgtracker/internal/logging"
	"ccgtracker/internal/postgres"
)

// requestID gives every request an id, in the response header and in the
// context, so every log line of the request can name it.
func requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := make([]byte, 8)
		_, _ = rand.Read(b)
		id := hex.EncodeToString(b)
		w.Header().Set("X-Request-Id", id)
		next.ServeHTTP(w, r.WithContext(logging.WithRequestID(r.Context(), id)))
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(b)
	s.bytes += n
	return n, err
}

// Unwrap lets http.ResponseController reach the real writer.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// logRequests writes one line per request: method, path, status, time,
// and the number of SQL statements it ran.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		ctx, queries := postgres.CountQueries(r.Context())
		next.ServeHTTP(rec, r.WithContext(ctx))
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		s.log.InfoContext(r.Context(), "request",
			"method", r.Method, "path", r.URL.Path, "status", rec.status,
			"bytes", rec.bytes, "duration_ms", time.Since(start).Milliseconds(), "queries", queries())
	})
}

// recoverPanics turns a panic into the 500 page and a log line, so one bad
// request never takes the process down.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.fail(w, r, fmt.Errorf("panic: %v", v))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// contentSecurityPolicy allows scripts, styles and images from this origin
// only: no inline script or style anywhere, no framing.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"

// securityHeaders sets the headers every response carries.
func securityHeaders(secure bool, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		// Nothing is cached unless it says so (only the static files do):
		// pages, downloads and redirects all carry one person's session.
		h.Set("Cache-Control", "no-store")
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
		if secure {
			h.Set("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
		}
		next.ServeHTTP(w, r)
	})
}

// crossOriginProtection refuses state-changing requests (POST and the
// like) that a browser marks as coming from another site, with the 403
// page. Together with SameSite=Lax session cookies this is the CSRF
// defence: no token to forget on any form.
func (s *Server) crossOriginProtection(next http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.log.WarnContext(r.Context(), "cross-origin request refused",
			"method", r.Method, "path", r.URL.Path, "origin", r.Header.Get("Origin"), "sec_fetch_site", r.Header.Get("Sec-Fetch-Site"))
		s.fail(w, r, errCrossOrigin)
	}))
	return cop.Handler(next)
}

// clientAddress is the address sign-in throttling counts failures by.
func (s *Server) clientAddress(r *http.Request) string {
	if s.cfg.TrustProxyHeaders {
		if xff := r.Header.Get("X-Forwarded-For"); xff != "" {
			first, _, _ := strings.Cut(xff, ",")
			return strings.TrimSpace(first)
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// errUnreadableInput refuses text PostgreSQL cannot store: a NUL byte, or
// bytes that are not UTF-8 (a lone surrogate among them). Without it such
// a value reached a query and failed there as a 500.
var errUnreadableInput = apperr.New(apperr.Invalid,
	"What was sent contains a character the service cannot read, such as a control character or text that is not UTF-8. Go back, remove it (retyping the text usually does), and try again.")

// refuseUnreadableInput checks the address's query and a form's fields
// before any handler sees them. Multipart uploads are left to the upload
// parsers, which report bad files in their own words.
func (s *Server) refuseUnreadableInput(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !readable(r.URL.Path) || !readableValues(r.URL.Query()) {
			s.fail(w, r, errUnreadableInput)
			return
		}
		if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct == "application/x-www-form-urlencoded" {
			if err := r.ParseForm(); err != nil {
				s.fail(w, r, apperr.New(apperr.Invalid, "The form could not be read. Go back and try again."))
				return
			}
			if !readableValues(r.PostForm) {
				s.fail(w, r, errUnreadableInput)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

func readable(v string) bool { return utf8.ValidString(v) && !strings.ContainsRune(v, 0) }

func readableValues(vs url.Values) bool {
	for k, list := range vs {
		if !readable(k) {
			return false
		}
		for _, v := range list {
			if !readable(v) {
				return false
			}
		}
	}
	return true
}
