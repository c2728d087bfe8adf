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

	"ccgtracker/internal/audit"
	"ccgtracker/internal/auth"
	"ccgtracker/internal/dates"
	"ccgtracker/internal/links"
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
	f := auth.UserFilter{Query: q.Get(views.UsersQuery), Role: auth.Role(q.Get(views.InputRole)), CCGCode: q.Get(views.InputCCG), Status: q.Get(views.UsersStatus)}
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
	v := views.AdminUsersPage{
		Pager:    pager(res, "/admin/users", url.Values{views.UsersQuery: {f.Query}, views.InputRole: {string(f.Role)}, views.InputCCG: {f.CCGCode}, views.UsersStatus: {f.Status}}),
		Filter:   views.Form{Values: map[string]string{views.UsersQuery: f.Query, views.InputRole: string(f.Role), views.InputCCG: f.CCGCode, views.UsersStatus: f.Status}},
		Roles:    roles,
		CCGs:     ccgs,
		Statuses: []views.Option{{Value: "", Label: "Active or deactivated"}, {Value: "active", Label: "Active"}, {Value: "deactivated", Label: "Deactivated"}},
	}
	for _, u := range res.Rows {
		v.Rows = append(v.Rows, userRow(u))
	}
	v.Page = s.page(r, "Users")
	s.render(w, r, http.StatusOK, views.AdminUsers(v))
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
	s.render(w, r, http.StatusOK, views.AdminNewUser(views.AdminNewUserPage{Page: s.page(r, "Create a user", adminCrumbs...), Roles: roles, CCGs: ccgs}))
	return nil
}

// parseNewUserForm reads the create-user form. The role is a choice,
// taken as sent; auth judges every field.
func parseNewUserForm(f *form) auth.NewUser {
	return auth.NewUser{
		Email: f.text(views.InputEmail), Name: f.text(views.InputName),
		Role: auth.Role(f.values.Get(views.InputRole)), CCGCode: f.text(views.InputCCG),
	}
}

// newUserOrder is the create-user form's fields, in the order its error
// summary lists them.
var newUserOrder = []string{auth.FieldName, auth.FieldEmail, auth.FieldRole, auth.FieldCCG}

// adminCreateUser creates the user, or shows the form again with what is wrong.
func (s *Server) adminCreateUser(w http.ResponseWriter, r *http.Request) error {
	form := readForm(r)
	u, err := s.users.CreateUser(r.Context(), currentUser(r).Actor(), parseNewUserForm(form))
	if f, ok := formOf(form.check(err), r.PostForm, newUserOrder...); ok {
		roles, ccgs, err := s.userFormOptions(r)
		if err != nil {
			return err
		}
		s.render(w, r, http.StatusBadRequest, views.AdminNewUser(views.AdminNewUserPage{Page: s.page(r, "Create a user", adminCrumbs...), Form: f, Roles: roles, CCGs: ccgs}))
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
	s.render(w, r, http.StatusOK, views.AdminUser(views.AdminUserPage{
		Page: s.page(r, u.Name, adminCrumbs...), User: userRow(u), Link: link, History: auditRows(entries),
	}))
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
	return s.renderAdminUser(w, r, s.cfg.BaseURL.String()+links.SetPassword(token))
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
	f := views.Form{Values: map[string]string{views.InputName: u.Name, views.InputRole: string(u.Role), views.InputCCG: u.CCGCode}}
	return s.renderEditUser(w, r, http.StatusOK, u, f, auth.UserVersion(u))
}

func (s *Server) renderEditUser(w http.ResponseWriter, r *http.Request, status int, u auth.User, f views.Form, version string) error {
	roles, ccgs, err := s.userFormOptions(r)
	if err != nil {
		return err
	}
	crumbs := append(append([]views.Link(nil), adminCrumbs...), views.Link{Label: u.Name, Href: "/admin/users/" + strconv.FormatInt(u.ID, 10)})
	s.render(w, r, status, views.AdminEditUser(views.AdminEditUserPage{
		Page: s.page(r, "Change "+u.Name, crumbs...), User: userRow(u), Form: f, Version: version, Roles: roles, CCGs: ccgs,
	}))
	return nil
}

// parseUserChangeForm reads the form that changes a user, with the
// version of the user it was shown (both as sent: auth judges them).
func parseUserChangeForm(f *form) auth.UserChange {
	return auth.UserChange{
		Name: f.text(views.InputName), Role: auth.Role(f.values.Get(views.InputRole)),
		CCGCode: f.text(views.InputCCG), Version: f.values.Get(views.InputVersion),
	}
}

// adminUpdateUser saves a user's name, role and CCG; a new role or CCG
// signs them out everywhere.
func (s *Server) adminUpdateUser(w http.ResponseWriter, r *http.Request) error {
	id, err := userIDParam(r)
	if err != nil {
		return err
	}
	// The user as they are, for the form shown again: an unknown user is
	// a 404 before anything is tried.
	before, err := auth.GetUser(r.Context(), s.pool, id)
	if err != nil {
		return err
	}
	form := readForm(r)
	c := parseUserChangeForm(form)
	done, err := s.users.UpdateUser(r.Context(), currentUser(r).Actor(), id, c)
	if f, ok := formOf(form.check(err), r.PostForm, auth.FieldName, auth.FieldRole, auth.FieldCCG); ok {
		return s.renderEditUser(w, r, http.StatusBadRequest, before, f, c.Version)
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

// parseAuditFilter reads the audit log's filter from the query: an
// unknown kind is any kind, a blank date no limit, and a date that is
// not one, or a to date before the from date, a problem noted in f.
func parseAuditFilter(f *form) audit.Filter {
	filter := audit.Filter{Who: f.text(views.AuditWho), CCGCode: strings.ToUpper(f.text(views.AuditCCG)), EntityID: f.text(views.AuditObject)}
	for _, t := range audit.EntityTypes {
		if t.Code == f.text(views.AuditType) {
			filter.EntityType = t.Code
		}
	}
	dateOf := func(name, label string) *time.Time {
		t := f.optionalDate(name, name+"-day", label)
		if t.IsZero() {
			return nil
		}
		return &t
	}
	filter.From, filter.To = dateOf(views.AuditFrom, "From date"), dateOf(views.AuditTo, "To date")
	if filter.From != nil && filter.To != nil && filter.To.Before(*filter.From) {
		f.problem(views.AuditTo+"-day", "To date must be the same as or after the from date")
	}
	return filter
}

// adminAudit shows the audit log, filtered and paged in SQL.
func (s *Server) adminAudit(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	// The filter is a GET form: it is read from the query the way a POST
	// form is read from its body.
	qf := &form{values: q, problems: map[string]string{}}
	filter := parseAuditFilter(qf)
	keep := url.Values{}
	for _, k := range []string{views.AuditWho, views.AuditCCG, views.AuditType, views.AuditObject} {
		keep.Set(k, qf.text(k))
	}
	for _, d := range []string{views.AuditFrom, views.AuditTo} {
		for _, part := range []string{"-day", "-month", "-year"} {
			keep.Set(d+part, qf.text(d+part))
		}
	}
	f := views.Form{Values: map[string]string{}}
	if ff, ok := formOf(qf.check(nil), keep, views.AuditFrom+"-day", views.AuditTo+"-day"); ok {
		f = ff
	} else {
		for k := range keep {
			f.Values[k] = keep.Get(k)
		}
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
	v := views.AdminAuditPage{Filter: f, Types: types, CCGs: ccgs}
	crumbs := views.Link{Label: "Dashboard", Href: "/"}
	if f.HasErrors() {
		v.Page = s.page(r, "Audit log", crumbs)
		s.render(w, r, http.StatusBadRequest, views.AdminAudit(v))
		return nil
	}
	res, err := audit.Search(r.Context(), s.pool, filter, paging.Parse(q.Get("page"), auditPageSize))
	if err != nil {
		return err
	}
	v.Pager = pager(res, "/admin/audit", keep)
	v.Rows = auditRows(res.Rows)
	v.Page = s.page(r, "Audit log", crumbs)
	s.render(w, r, http.StatusOK, views.AdminAudit(v))
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
