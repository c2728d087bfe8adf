package server

import (
	"bytes"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/a-h/templ"

	"ccgtracker/internal/apperr"
	"ccgtracker/internal/postgres"
	"ccgtracker/web/views"
)

// handlerFunc is an HTTP handler that returns its error instead of writing
// it, so that errors become responses in exactly one place: adapt.
type handlerFunc func(http.ResponseWriter, *http.Request) error

var (
	errNotFound  = apperr.New(apperr.NotFound, "Page not found")
	errForbidden = apperr.New(apperr.Forbidden, "You do not have access to this page")
)

// adapt turns a handlerFunc into an http.Handler, rendering any error.
func (s *Server) adapt(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.fail(w, r, err)
		}
	})
}

// fail is the one place an error becomes a response: its class picks the
// status and the page; only internal errors are logged in full, and no
// internal detail ever reaches the page.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	code := apperr.CodeOf(err)
	status, heading, message := http.StatusInternalServerError,
		"Sorry, there is a problem with the service",
		"Try again later. If the problem continues, contact the service desk and quote the reference "+w.Header().Get("X-Request-Id")+"."
	if postgres.Unavailable(r.Context(), err) {
		// Busy or unreachable, not broken: say when to come back.
		s.log.WarnContext(r.Context(), "database unavailable", "method", r.Method, "path", r.URL.Path, "err", err)
		w.Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds))
		heading = "Sorry, the service is unavailable"
		s.render(w, r, http.StatusServiceUnavailable, views.ErrorPage(views.ErrorView{Page: s.page(r, heading), Heading: heading,
			Message: "The service is very busy or cannot reach its database just now. Try again in a minute. Nothing you sent has been saved unless the page told you it was."}))
		return
	}
	switch code {
	case apperr.NotFound:
		status, heading = http.StatusNotFound, "Page not found"
		message = "If you typed the web address, check it is correct. If you pasted the web address, check you copied the entire address."
	case apperr.Forbidden:
		status, heading = http.StatusForbidden, "You do not have access to this page"
		message = apperr.MessageOf(err)
		if errors.Is(err, errForbidden) {
			message = "Your role does not include this page. If you think it should, ask an administrator of the service."
		}
	case apperr.Invalid:
		status, heading, message = http.StatusBadRequest, "There is a problem", apperr.MessageOf(err)
	case apperr.Conflict:
		status, heading, message = http.StatusConflict, "This has changed", apperr.MessageOf(err)
	default:
		s.log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	if status != http.StatusInternalServerError {
		s.log.InfoContext(r.Context(), "request refused", "status", status, "path", r.URL.Path, "reason", err.Error())
	}
	s.render(w, r, status, views.ErrorPage(views.ErrorView{Page: s.page(r, heading), Heading: heading, Message: message}))
}

// render writes a component with a status. Pages are never cached: they
// carry one person's data. The page is rendered whole into a buffer first
// and sent in one write, with its length: written straight to the
// connection a 200 KB page took some fifty system calls, a fifth of the
// server's time under load; and a page that fails half-way is never sent
// as if it were whole.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, c templ.Component) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if r.Method == http.MethodHead {
		w.WriteHeader(status)
		return
	}
	buf := pageBuffers.Get().(*bytes.Buffer)
	defer putPageBuffer(buf)
	buf.Reset()
	if err := c.Render(r.Context(), buf); err != nil {
		s.log.ErrorContext(r.Context(), "render failed", "path", r.URL.Path, "err", err)
		if status < http.StatusInternalServerError {
			status = http.StatusInternalServerError
		}
		w.WriteHeader(status)
		return
	}
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// pageBuffers keeps the buffers pages are rendered into between requests.
var pageBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// putPageBuffer returns a buffer to the pool, unless an unusually big page
// made it big: the pool would keep that memory for ever.
func putPageBuffer(b *bytes.Buffer) {
	if b.Cap() <= 1<<20 {
		pageBuffers.Put(b)
	}
}

// page fills in what the layout needs: the user, their menu, and a flash
// message left by the previous request (read once, then gone).
func (s *Server) page(r *http.Request, title string, crumbs ...views.Link) views.Page {
	u := currentUser(r)
	p := views.Page{Title: title, Breadcrumbs: crumbs}
	if u == nil {
		return p
	}
	p.User = &views.CurrentUser{Name: u.Name, RoleName: u.Role.Name(), CCGName: u.CCGName,
		CanReadAudit: s.pageAccess["/admin/audit"].allows(u)}
	p.IdleTimeoutSeconds = int(s.cfg.SessionIdleTimeout.Seconds())
	p.IdleRemainingSeconds = int(s.idleRemaining(r.Context()).Seconds())
	p.Flash = s.sessions.PopString(r.Context(), sessionFlash)
	nav := s.navigation(r, u)
	section := sectionOf(nav, r.URL.Path)
	for i, n := range nav {
		p.Nav = append(p.Nav, views.NavItem{Label: n.label, Href: n.href, Current: i == section, Here: i == section && n.href == r.URL.Path})
	}
	return p
}

// redirect sends the browser on after a successful POST (303 See Other,
// so a reload does not post again).
func redirect(w http.ResponseWriter, r *http.Request, to string) error {
	http.Redirect(w, r, to, http.StatusSeeOther)
	return nil
}

// formOf turns an error about form fields (a validation error, or a
// refusal such as sign-in throttling that names a field) into the form to
// re-render, in the order the form lists its fields. ok is false for any
// other error.
func formOf(err error, values url.Values, order ...string) (views.Form, bool) {
	var e *apperr.Error
	if !errors.As(err, &e) || (e.Code != apperr.Invalid && len(e.Fields) == 0) {
		return views.Form{}, false
	}
	f := views.Form{Values: formValues(values)}
	seen := map[string]bool{}
	for _, field := range order {
		if msg, ok := e.Fields[field]; ok {
			f.Errors = append(f.Errors, views.FieldError{Field: field, Message: msg})
			seen[field] = true
		}
	}
	for field, msg := range e.Fields {
		if !seen[field] {
			f.Errors = append(f.Errors, views.FieldError{Field: field, Message: msg})
		}
	}
	if len(f.Errors) == 0 {
		f.Errors = []views.FieldError{{Field: firstOr(order, ""), Message: e.Message}}
	}
	return f, true
}

func firstOr(s []string, def string) string {
	if len(s) > 0 {
		return s[0]
	}
	return def
}

// retryAfterSeconds is how soon a 503 asks the client to try again.
const retryAfterSeconds = 30

var errCrossOrigin = apperr.New(apperr.Forbidden, "This request came from another website, so it was refused. Go back to the service and try again.")

// sectionOf is the index of the menu item the page at path belongs to, or
// -1: the item whose address is the page's or the longest that leads to
// it, except that every page of a CCG's return belongs to Returns (the
// review page is under /ccgs/{code}/ but is not a page of CCGs), a
// practice's page to the CCGs, and the outbox to the nightly job.
func sectionOf(nav []navLink, path string) int {
	within := func(href string) bool { return href == path || (href != "/" && strings.HasPrefix(path, href+"/")) }
	if parts := strings.Split(path, "/"); len(parts) >= 4 && parts[1] == "ccgs" && parts[3] == "returns" {
		return navIndex(nav, "Returns")
	}
	switch {
	case strings.HasPrefix(path, "/practices/"):
		if i := navIndex(nav, "Your CCG"); i >= 0 {
			return i
		}
		return navIndex(nav, "CCGs")
	case strings.HasPrefix(path, "/admin/ccgs/"):
		return navIndex(nav, "CCGs")
	case path == "/admin/outbox":
		return navIndex(nav, "Jobs")
	}
	best := -1
	for i, n := range nav {
		if within(n.href) && (best < 0 || len(n.href) > len(nav[best].href)) {
			best = i
		}
	}
	return best
}

// navIndex is the index of the menu item labelled label, or -1.
func navIndex(nav []navLink, label string) int {
	for i, n := range nav {
		if n.label == label {
			return i
		}
	}
	return -1
}
