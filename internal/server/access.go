package server

import (
	"net/http"
	"net/url"
	"slices"

	"ccgtracker/internal/auth"
)

// access is who may use a route. Its zero value admits nobody: a route
// whose access was not stated is refused to everyone.
type access struct {
	public bool        // no sign-in needed
	roles  []auth.Role // signed-in users with one of these roles
}

// anyone admits every request, signed in or not.
func anyone() access { return access{public: true} }

// signedIn admits every signed-in user, whatever their role.
func signedIn() access { return access{roles: auth.Roles} }

// only admits signed-in users with one of the roles.
func only(roles ...auth.Role) access { return access{roles: roles} }

// allows reports whether a user (nil: nobody signed in) may use the route.
func (a access) allows(u *auth.User) bool {
	if a.public {
		return true
	}
	return u != nil && slices.Contains(a.roles, u.Role)
}

// authorize refuses a request the route's access does not admit: someone
// not signed in is sent to sign in (and brought back after), a signed-in
// user without the role is refused with 403.
func (s *Server) authorize(a access, next handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		u := currentUser(r)
		if a.allows(u) {
			return next(w, r)
		}
		if u == nil && !a.public && len(a.roles) > 0 {
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return nil
			}
		}
		return errForbidden
	}
}
