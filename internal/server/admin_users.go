package server

import (
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"

	"ccgtracker/internal/apperr"
	"ccgtracker/internal/audit"
	"ccgtracker/internal/auth"
	"ccgtracker/internal/dates"
	"ccgtracker/internal/org"
	"ccgtracker/internal/paging"
	"ccgtracker/web/views"
)

func userRow(u auth.User) views.UserRow {
	ccg := ""
	if u.CCGCode != "" {
		ccg = u.CCGName + " (" + u.CCGCode + ")"
	}
	return views.UserRow{
		ID: u.ID, Email: u.Email, Name: u.Name, Role: u.Role.Name(), CCG: ccg,
		Active: u.Active, HasPassword: u.HasPassword, Created: u.CreatedAt.In(dates.London).Format("2 January 2006 15:04"),
	}
}

var adminCrumbs = []views.Link{{Label: "Dashboard", Href: "/"}, {Label: "Users", Href: "/admin/users"}}

// adminUsers lists every user.
func (s *Server) adminUsers(w http.ResponseWriter, r *http.Request) error {
	users, err := auth.ListUsers(r.Context(), s.pool)
	if err != nil {
		return err
	}
	rows := make([]views.UserRow, len(users))
	for i, u := range users {
		rows[i] = userRow(u)
	}
	s.render(w, r, http.StatusOK, views.AdminUsers(s.page(r, "Users"), rows))
	return nil
}

// userFormOptions are the choices of the create-user form.
func (s *Server) userFormOptions(r *http.Request) ([]views.Option, []views.Option, error) {
	roles := []views.Option{{Value: "", Label: "Select a role"}}
	for _, role := range auth.Roles {
		roles = append(roles, views.Option{Value: string(role), Label: role.Name()})
	}
	res, err := org.SearchCCGs(r.Context(), s.pool, org.AllCCGs(), org.CCGFilter{}, paging.Page{Number: 1, Size: 10000})
	if err != nil {
		return nil, nil, err
	}
	ccgs := []views.Option{{Value: "", Label: "Not a buyer"}}
	for _, c := range res.Rows {
		ccgs = append(ccgs, views.Option{Value: c.Code, Label: c.Name + " (" + c.Code + ")"})
	}
	return roles, ccgs, nil
}

// adminNewUser shows the create-user form.
func (s *Server) adminNewUser(w http.ResponseWriter, r *http.Request) error {
	roles, ccgs, err := s.userFormOptions(r)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, views.AdminNewUser(s.page(r, "Create a user", adminCrumbs...), views.Form{}, roles, ccgs))
	return nil
}

// adminCreateUser creates the user, or shows the form again with what is wrong.
func (s *Server) adminCreateUser(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return apperr.New(apperr.Invalid, "The form could not be read")
	}
	admin := currentUser(r)
	u, err := auth.CreateUser(r.Context(), s.pool, s.now(), &admin.ID, auth.NewUser{
		Email: r.PostForm.Get("email"), Name: r.PostForm.Get("name"),
		Role: auth.Role(r.PostForm.Get("role")), CCGCode: r.PostForm.Get("ccg"),
	})
	if f, ok := formOf(err, r.PostForm, "name", "email", "role", "ccg"); ok {
		roles, ccgs, err := s.userFormOptions(r)
		if err != nil {
			return err
		}
		s.render(w, r, http.StatusBadRequest, views.AdminNewUser(s.page(r, "Create a user", adminCrumbs...), f, roles, ccgs))
		return nil
	}
	if err != nil {
		return err
	}
	s.flash(r.Context(), "User "+u.Email+" created. Create a set-password link and send it to them.")
	return redirect(w, r, "/admin/users/"+strconv.FormatInt(u.ID, 10))
}

func userIDParam(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, errNotFound
	}
	return id, nil
}

// adminUser shows one user with their history and actions.
func (s *Server) adminUser(w http.ResponseWriter, r *http.Request) error {
	return s.renderAdminUser(w, r, "")
}

func (s *Server) renderAdminUser(w http.ResponseWriter, r *http.Request, link string) error {
	id, err := userIDParam(r)
	if err != nil {
		return err
	}
	u, err := auth.GetUser(r.Context(), s.pool, id)
	if err != nil {
		return err
	}
	entries, err := audit.ForEntity(r.Context(), s.pool, "user", strconv.FormatInt(id, 10), 50)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, views.AdminUser(s.page(r, u.Name, adminCrumbs...), userRow(u), link, auditRows(entries)))
	return nil
}

// adminDeactivateUser deactivates a user; their sessions end at once.
func (s *Server) adminDeactivateUser(w http.ResponseWriter, r *http.Request) error {
	id, err := userIDParam(r)
	if err != nil {
		return err
	}
	if err := auth.Deactivate(r.Context(), s.pool, s.now(), currentUser(r).ID, id); err != nil {
		return err
	}
	s.flash(r.Context(), "The user is deactivated and has been signed out.")
	return redirect(w, r, "/admin/users/"+strconv.FormatInt(id, 10))
}

// adminPasswordLink creates a one-time set-password link and shows it once.
// The page is the POST's response (not a redirect) so the link is never
// stored anywhere but the admin's screen.
func (s *Server) adminPasswordLink(w http.ResponseWriter, r *http.Request) error {
	id, err := userIDParam(r)
	if err != nil {
		return err
	}
	token, err := auth.IssuePasswordLink(r.Context(), s.pool, s.now(), currentUser(r).ID, id)
	if err != nil {
		return err
	}
	return s.renderAdminUser(w, r, s.cfg.BaseURL.String()+"/set-password/"+token)
}

// adminAudit shows the latest entries of the audit log.
func (s *Server) adminAudit(w http.ResponseWriter, r *http.Request) error {
	entries, err := audit.Recent(r.Context(), s.pool, 200)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, views.AdminAudit(s.page(r, "Audit log", views.Link{Label: "Dashboard", Href: "/"}), auditRows(entries)))
	return nil
}

func auditRows(entries []audit.Entry) []views.AuditRow {
	rows := make([]views.AuditRow, len(entries))
	for i, e := range entries {
		rows[i] = views.AuditRow{
			At: e.At.In(dates.London).Format("2 Jan 2006 15:04:05"), Actor: e.ActorEmail, Action: e.Action,
			Entity: e.EntityType + " " + e.EntityID, Before: jsonText(e.Before), After: jsonText(e.After),
		}
	}
	return rows
}

func jsonText(b []byte) string {
	if s := string(b); s != "null" {
		return s
	}
	return ""
}
