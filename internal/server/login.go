package server

import (
	"errors"
	"net/http"
	"net/url"
	"path"
	"strings"
	"unicode"

	"github.com/go-chi/chi/v5"

	"ccgtracker/internal/apperr"
	"ccgtracker/internal/auth"
	"ccgtracker/internal/links"
	"ccgtracker/web/views"
)

// loginPage shows the sign-in form; someone already signed in goes home.
func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) error {
	if currentUser(r) != nil {
		return redirect(w, r, "/")
	}
	notice := ""
	switch {
	case r.URL.Query().Get("timeout") != "":
		notice = "You were signed out because you did nothing for a while. Sign in again to carry on."
	case r.URL.Query().Get("signedout") != "":
		notice = "You have signed out."
	}
	s.render(w, r, http.StatusOK, views.Login(views.LoginPage{Page: s.page(r, "Sign in"), Next: s.localPath(r.URL.Query().Get(views.InputNext)), Notice: notice}))
	return nil
}

// loginForm is the sign-in form: the password exactly as typed, and
// where to go after (the sign-in page's next).
type loginForm struct {
	Email, Password, Next string
}

func parseLoginForm(f *form) loginForm {
	return loginForm{Email: f.values.Get(views.InputEmail), Password: f.values.Get(views.InputPassword), Next: f.values.Get(views.InputNext)}
}

// login checks the credentials under the throttle, renews the session and
// sends the person where they were going.
func (s *Server) login(w http.ResponseWriter, r *http.Request) error {
	form := readForm(r)
	in := parseLoginForm(form)
	next := s.localPath(in.Next)
	res, err := s.users.Authenticate(r.Context(), s.throttle, in.Email, in.Password, s.clientAddress(r))
	if res.Delay > 0 {
		s.sleep(r.Context(), res.Delay)
	}
	if err != nil {
		f, ok := formOf(form.check(err), r.PostForm, auth.FieldEmail, auth.FieldPassword)
		if !ok {
			return err
		}
		f.Values[views.InputPassword] = "" // never echo a password back
		status := http.StatusUnauthorized
		if apperr.Is(err, apperr.Forbidden) {
			status = http.StatusTooManyRequests
		}
		s.log.InfoContext(r.Context(), "sign-in refused", "email", strings.ToLower(strings.TrimSpace(in.Email)), "address", s.clientAddress(r), "reason", apperr.MessageOf(err))
		s.render(w, r, status, views.Login(views.LoginPage{Page: s.page(r, "Sign in"), Form: f, Next: next}))
		return nil
	}
	if err := s.signIn(r.Context(), res.User); err != nil {
		return err
	}
	s.log.InfoContext(r.Context(), "signed in", "user_id", res.User.ID, "role", res.User.Role)
	return redirect(w, r, next)
}

// localPath is where to send someone after signing in (or back from a
// form): a page of this site, decided once, after every normalisation a
// browser would make. Anything else goes home. A backslash anywhere is
// refused (browsers read "/\\evil.example" as "//evil.example"), as are
// control characters, an address with a scheme or host, a path that is not
// already clean ("/./", "/../", "//"), the sign-in page itself, and a path
// the router does not serve.
func (s *Server) localPath(p string) string {
	if p == "" || strings.ContainsAny(p, "\\") || strings.IndexFunc(p, unicode.IsControl) >= 0 {
		return "/"
	}
	u, err := url.Parse(p)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" ||
		!strings.HasPrefix(u.Path, "/") || strings.HasPrefix(u.Path, "//") || strings.ContainsRune(u.Path, '\\') ||
		path.Clean(u.Path) != u.Path && path.Clean(u.Path)+"/" != u.Path ||
		u.Path == "/login" || strings.HasPrefix(u.Path, "/login/") || s.patternOf(u.Path) == "" {
		return "/"
	}
	u.Fragment = ""
	return u.RequestURI()
}

// logout destroys the session, server side as well as the cookie.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) error {
	if err := s.sessions.Destroy(r.Context()); err != nil {
		return err
	}
	return redirect(w, r, "/login?signedout=1")
}

// extendSession is the "Stay signed in" button: it restarts the session's
// idle clock (a session already idle too long never gets here: loadUser
// ended it, and the route is for the signed-in only). The script
// calls it with fetch (204); without the script the form posts and the
// person goes back to the page they were on.
func (s *Server) extendSession(w http.ResponseWriter, r *http.Request) error {
	s.keepAlive(r.Context())
	if r.Header.Get("Sec-Fetch-Mode") == "navigate" {
		back := "/"
		if ref, err := url.Parse(r.Referer()); err == nil && ref.Host == r.Host {
			back = s.localPath(ref.RequestURI())
		}
		return redirect(w, r, back)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// setPasswordPage shows the form of a one-time set-password link.
func (s *Server) setPasswordPage(w http.ResponseWriter, r *http.Request) error {
	token := chi.URLParam(r, "token")
	u, err := auth.PasswordLinkUser(r.Context(), s.pool, s.now(), token)
	if errors.Is(err, auth.ErrLinkNotValid) {
		s.linkNotValid(w, r)
		return nil
	}
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, views.SetPassword(views.SetPasswordPage{Page: s.page(r, "Set your password"), Email: u.Email, Action: links.SetPassword(token)}))
	return nil
}

// setPasswordForm is the password chosen and its confirmation, exactly
// as typed.
type setPasswordForm struct {
	Password, Confirm string
}

func parseSetPasswordForm(f *form) setPasswordForm {
	return setPasswordForm{Password: f.values.Get(views.InputPassword), Confirm: f.values.Get(views.InputConfirm)}
}

// setPassword uses the link, then signs the person in.
func (s *Server) setPassword(w http.ResponseWriter, r *http.Request) error {
	token := chi.URLParam(r, "token")
	form := readForm(r)
	in := parseSetPasswordForm(form)
	u, err := s.users.SetPasswordWithLink(r.Context(), token, in.Password, in.Confirm)
	if errors.Is(err, auth.ErrLinkNotValid) {
		s.linkNotValid(w, r)
		return nil
	}
	if f, ok := formOf(form.check(err), r.PostForm, auth.FieldPassword, auth.FieldConfirm); ok {
		linkUser, lerr := auth.PasswordLinkUser(r.Context(), s.pool, s.now(), token)
		if errors.Is(lerr, auth.ErrLinkNotValid) {
			s.linkNotValid(w, r)
			return nil
		}
		if lerr != nil {
			return lerr
		}
		f.Values = map[string]string{}
		s.render(w, r, http.StatusBadRequest, views.SetPassword(views.SetPasswordPage{Page: s.page(r, "Set your password"), Form: f, Email: linkUser.Email, Action: links.SetPassword(token)}))
		return nil
	}
	if err != nil {
		return err
	}
	if err := s.signIn(r.Context(), u); err != nil {
		return err
	}
	s.flash(r.Context(), "Your password is set. You are signed in.")
	return redirect(w, r, "/")
}

// linkNotValid says why a set-password link cannot be used (404): unknown,
// expired and used links all read the same.
func (s *Server) linkNotValid(w http.ResponseWriter, r *http.Request) {
	const heading = "This link cannot be used"
	s.render(w, r, http.StatusNotFound, views.ErrorPage(views.ErrorView{Page: s.page(r, heading), Heading: heading, Message: apperr.MessageOf(auth.ErrLinkNotValid)}))
}
