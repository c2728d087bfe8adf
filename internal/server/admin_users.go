package server

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

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

// usersPageSize is how many users the admin's list shows at once.
const usersPageSize = 50

// adminUsers lists the users the search and filters match, a page at a time.
func (s *Server) adminUsers(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f := auth.UserFilter{Query: q.Get("q"), Role: auth.Role(q.Get("role")), CCGCode: q.Get("ccg"), Status: q.Get("status")}
	if !slices.Contains(auth.Roles, f.Role) {
		f.Role = ""
	}
	if !slices.Contains(auth.UserStatuses, f.Status) {
		f.Status = ""
	}
	res, err := auth.SearchUsers(r.Context(), s.pool, f, paging.Parse(q.Get("page"), usersPageSize))
	if err != nil {
		return err
	}
	roles, ccgs, err := s.userFormOptions(r)
	if err != nil {
		return err
	}
	roles[0].Label, ccgs[0].Label = "Any role", "Any CCG"
	v := views.UsersView{
		Pager:    pager(res, "/admin/users", url.Values{"q": {f.Query}, "role": {string(f.Role)}, "ccg": {f.CCGCode}, "status": {f.Status}}),
		Filter:   views.Form{Values: map[string]string{"q": f.Query, "role": string(f.Role), "ccg": f.CCGCode, "status": f.Status}},
		Roles:    roles,
		CCGs:     ccgs,
		Statuses: []views.Option{{Value: "", Label: "Active or deactivated"}, {Value: "active", Label: "Active"}, {Value: "deactivated", Label: "Deactivated"}},
	}
	for _, u := range res.Rows {
		v.Rows = append(v.Rows, userRow(u))
	}
	s.render(w, r, http.StatusOK, views.AdminUsers(s.page(r, "Users"), v))
	return nil
}

// userFormOptions are the choices of the create-user form.
func (s *Server) userFormOptions(r *http.Request) ([]views.Option, []views.Option, error) {
	roles := []views.Option{{Value: "", Label: "Select a role"}}
	for _, role := range auth.Roles {
		roles = append(roles, views.Option{Value: string(role), Label: role.Name()})
	}
	// An admin's scope is every CCG: the options are all of them.
	ccgs, err := s.ccgOptions(r, "Not a buyer")
	if err != nil {
		return nil, nil, err
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
	u, err := s.users.CreateUser(r.Context(), currentUser(r).Actor(), auth.NewUser{
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
	return s.userAction(w, r, s.users.Deactivate, "The user is deactivated and has been signed out.")
}

// userAction does one admin action to the user of the address, then
// shows the user's page with what was done.
func (s *Server) userAction(w http.ResponseWriter, r *http.Request, action func(context.Context, org.Actor, int64) error, done string) error {
	id, err := userIDParam(r)
	if err != nil {
		return err
	}
	if err := action(r.Context(), currentUser(r).Actor(), id); err != nil {
		return err
	}
	s.flash(r.Context(), done)
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
	token, err := s.users.IssuePasswordLink(r.Context(), currentUser(r).Actor(), id)
	if err != nil {
		return err
	}
	return s.renderAdminUser(w, r, s.cfg.BaseURL.String()+"/set-password/"+token)
}

// adminEditUser shows the form that changes a user's name, role and CCG.
func (s *Server) adminEditUser(w http.ResponseWriter, r *http.Request) error {
	id, err := userIDParam(r)
	if err != nil {
		return err
	}
	u, err := auth.GetUser(r.Context(), s.pool, id)
	if err != nil {
		return err
	}
	f := views.Form{Values: map[string]string{auth.FieldName: u.Name, auth.FieldRole: string(u.Role), auth.FieldCCG: u.CCGCode}}
	return s.renderEditUser(w, r, http.StatusOK, u, f, auth.UserVersion(u))
}

func (s *Server) renderEditUser(w http.ResponseWriter, r *http.Request, status int, u auth.User, f views.Form, version string) error {
	roles, ccgs, err := s.userFormOptions(r)
	if err != nil {
		return err
	}
	crumbs := append(append([]views.Link(nil), adminCrumbs...), views.Link{Label: u.Name, Href: "/admin/users/" + strconv.FormatInt(u.ID, 10)})
	s.render(w, r, status, views.AdminEditUser(s.page(r, "Change "+u.Name, crumbs...),
		views.UserEditView{User: userRow(u), Form: f, Version: version, Roles: roles, CCGs: ccgs}))
	return nil
}

// adminUpdateUser saves a user's name, role and CCG; a new role or CCG
// signs them out everywhere.
func (s *Server) adminUpdateUser(w http.ResponseWriter, r *http.Request) error {
	id, err := userIDParam(r)
	if err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return apperr.New(apperr.Invalid, "The form could not be read")
	}
	before, err := auth.GetUser(r.Context(), s.pool, id)
	if err != nil {
		return err
	}
	version := r.PostForm.Get("version")
	done, err := s.users.UpdateUser(r.Context(), currentUser(r).Actor(), id, auth.UserChange{
		Name: r.PostForm.Get(auth.FieldName), Role: auth.Role(r.PostForm.Get(auth.FieldRole)),
		CCGCode: r.PostForm.Get(auth.FieldCCG), Version: version,
	})
	if f, ok := formOf(err, r.PostForm, auth.FieldName, auth.FieldRole, auth.FieldCCG); ok {
		return s.renderEditUser(w, r, http.StatusBadRequest, before, f, version)
	}
	if err != nil {
		return err
	}
	msg := "Changes to " + done.User.Email + " saved."
	if done.SignedOut {
		msg += " They have been signed out everywhere."
	}
	s.flash(r.Context(), msg)
	return redirect(w, r, "/admin/users/"+strconv.FormatInt(id, 10))
}

// adminReactivateUser lets a deactivated user sign in again.
func (s *Server) adminReactivateUser(w http.ResponseWriter, r *http.Request) error {
	return s.userAction(w, r, s.users.Reactivate, "The user is active again and can sign in.")
}

// auditPageSize is how many entries of the log a page shows.
const auditPageSize = 25

// adminAudit shows the audit log, filtered and paged in SQL.
func (s *Server) adminAudit(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f := views.Form{Values: map[string]string{}}
	for _, k := range []string{"who", "ccg", "type", "object", "from-day", "from-month", "from-year", "to-day", "to-month", "to-year"} {
		f.Values[k] = strings.TrimSpace(q.Get(k))
	}
	filter := audit.Filter{Who: f.Values["who"], CCGCode: strings.ToUpper(f.Values["ccg"]), EntityID: f.Values["object"]}
	for _, t := range audit.EntityTypes {
		if t.Code == f.Values["type"] {
			filter.EntityType = t.Code
		}
	}
	for _, d := range []struct {
		name, label string
		into        **time.Time
	}{{"from", "From date", &filter.From}, {"to", "To date", &filter.To}} {
		day, month, year := f.Values[d.name+"-day"], f.Values[d.name+"-month"], f.Values[d.name+"-year"]
		if day == "" && month == "" && year == "" {
			continue
		}
		t, msg := dates.Parse(d.label, day, month, year)
		if msg != "" {
			f.Errors = append(f.Errors, views.FieldError{Field: d.name + "-day", Message: msg})
			continue
		}
		*d.into = &t
	}
	if filter.From != nil && filter.To != nil && filter.To.Before(*filter.From) {
		f.Errors = append(f.Errors, views.FieldError{Field: "to-day", Message: "To date must be the same as or after the from date"})
	}
	types := []views.Option{{Value: "", Label: "Any kind"}}
	for _, t := range audit.EntityTypes {
		types = append(types, views.Option{Value: t.Code, Label: t.Name})
	}
	_, ccgs, err := s.userFormOptions(r)
	if err != nil {
		return err
	}
	ccgs[0].Label = "Any CCG"
	v := views.AuditView{Filter: f, Types: types, CCGs: ccgs}
	crumbs := views.Link{Label: "Dashboard", Href: "/"}
	if f.HasErrors() {
		s.render(w, r, http.StatusBadRequest, views.AdminAudit(s.page(r, "Audit log", crumbs), v))
		return nil
	}
	res, err := audit.Search(r.Context(), s.pool, filter, paging.Parse(q.Get("page"), auditPageSize))
	if err != nil {
		return err
	}
	keep := url.Values{}
	for k, val := range f.Values {
		keep.Set(k, val)
	}
	v.Pager = pager(res, "/admin/audit", keep)
	v.Rows = auditRows(res.Rows)
	s.render(w, r, http.StatusOK, views.AdminAudit(s.page(r, "Audit log", crumbs), v))
	return nil
}

// auditRows says each entry in words: what was done, to what, and each
// field before and after.
func auditRows(entries []audit.Entry) []views.AuditRow {
	rows := make([]views.AuditRow, len(entries))
	for i, e := range entries {
		row := views.AuditRow{
			At: e.At.In(dates.London).Format("2 Jan 2006 15:04:05"), Actor: e.ActorEmail, Action: audit.ActionName(e.Action),
			Entity: audit.EntityName(e.EntityType) + " " + e.EntityID, EntityHref: views.AuditHref(e.EntityType, e.EntityID),
		}
		for _, c := range e.Changes() {
			row.Changes = append(row.Changes, views.AuditChange{Field: c.Field, Before: c.Before, After: c.After})
		}
		rows[i] = row
	}
	return rows
}
