package server

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"ccgtracker/internal/dates"
	"ccgtracker/internal/org"
	"ccgtracker/internal/tracker"
	"ccgtracker/web/views"
)

// adminCCG shows a CCG's due day for the admin to change.
func (s *Server) adminCCG(w http.ResponseWriter, r *http.Request) error {
	c, err := org.GetCCG(r.Context(), s.pool, org.AllCCGs(), strings.ToUpper(chi.URLParam(r, "code")))
	if err != nil {
		return err
	}
	f := views.Form{Values: map[string]string{}}
	if c.DueDayOverride != nil {
		f.Values[views.DueDayInput] = strconv.Itoa(*c.DueDayOverride)
	}
	s.render(w, r, http.StatusOK, views.AdminCCG(views.AdminCCGPage{
		Page: s.page(r, c.Name, views.Link{Label: c.Name, Href: "/ccgs/" + c.Code}), CCG: ccgRow(c), Form: f,
	}))
	return nil
}

// parseDueDay reads the CCG's own due day: empty (nil) for the region's.
func parseDueDay(f *form) *int {
	v := f.text(views.DueDayInput)
	if v == "" {
		return nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		f.problem(org.FieldDueDay, "Due day must be a number from 1 to 28, or empty")
	}
	return &n
}

// adminCCGSave sets or clears the CCG's own due day.
func (s *Server) adminCCGSave(w http.ResponseWriter, r *http.Request) error {
	code := strings.ToUpper(chi.URLParam(r, "code"))
	f := readForm(r)
	day := parseDueDay(f)
	var err error
	if f.ok() {
		err = s.orgs.SetDueDay(r.Context(), currentUser(r).Actor(), code, day)
	}
	err = f.check(err)
	if form, ok := formOf(err, r.PostForm, org.FieldDueDay); ok {
		c, gerr := org.GetCCG(r.Context(), s.pool, org.AllCCGs(), code)
		if gerr != nil {
			return gerr
		}
		s.render(w, r, http.StatusBadRequest, views.AdminCCG(views.AdminCCGPage{Page: s.page(r, c.Name), CCG: ccgRow(c), Form: form}))
		return nil
	}
	if err != nil {
		return err
	}
	s.flash(r.Context(), "Due day saved. It applies to returns issued from now on.")
	return redirect(w, r, "/ccgs/"+code)
}

// adminReturns is the page to issue a month's returns by hand.
func (s *Server) adminReturns(w http.ResponseWriter, r *http.Request) error {
	f := views.Form{Values: map[string]string{views.PeriodInput: tracker.PeriodOf(dates.Today(s.now())).String()}}
	s.render(w, r, http.StatusOK, views.AdminReturns(views.AdminReturnsPage{Page: s.page(r, "Issue monthly returns", views.Link{Label: "Dashboard", Href: "/"}), Form: f}))
	return nil
}

// issueForm is the admin's month to issue returns for, and whether they
// confirmed issuing a past month's.
type issueForm struct {
	period    tracker.Period
	confirmed bool
}

func parseIssueForm(f *form) issueForm {
	p, ok := tracker.ParsePeriod(f.text(views.PeriodInput))
	if !ok {
		f.problem(views.PeriodInput, "Enter the month as year and month, like 2026-11")
	}
	return issueForm{period: p, confirmed: f.values.Get(views.IssueConfirmInput) == "yes"}
}

// issueRefused shows the issuing form again when err (with what the form
// could not read) is about the month, and reports whether it did.
func (s *Server) issueRefused(w http.ResponseWriter, r *http.Request, f *form, err error) bool {
	form, ok := formOf(f.check(err), f.values, views.PeriodInput)
	if ok {
		s.render(w, r, http.StatusBadRequest, views.AdminReturns(views.AdminReturnsPage{Page: s.page(r, "Issue monthly returns"), Form: form}))
	}
	return ok
}

// adminReturnsIssue issues the month's returns (idempotently).
func (s *Server) adminReturnsIssue(w http.ResponseWriter, r *http.Request) error {
	f := readForm(r)
	in := parseIssueForm(f)
	if !f.ok() {
		s.issueRefused(w, r, f, nil)
		return nil
	}
	p := in.period
	// A past month's returns fall due at once or already have: the admin
	// first sees how many will be late, and confirms (the NHS pattern: a
	// confirmation page, then the POST that does it).
	if !in.confirmed {
		pv, err := tracker.PreviewIssue(r.Context(), s.pool, s.now(), p)
		if s.issueRefused(w, r, f, err) {
			return nil
		}
		if err != nil {
			return err
		}
		if pv.Past {
			s.render(w, r, http.StatusOK, views.AdminReturnsConfirm(views.IssueConfirmView{
				Page:   s.page(r, "Issue the returns for "+p.Name(), views.Link{Label: "Issue monthly returns", Href: "/admin/returns"}),
				Period: p.String(), PeriodName: p.Name(), Issue: pv.Issue, Late: pv.Late,
			}))
			return nil
		}
	}
	n, err := s.tracker.Issue(r.Context(), currentUser(r).Actor(), p)
	if s.issueRefused(w, r, f, err) {
		return nil
	}
	if err != nil {
		return err
	}
	s.flash(r.Context(), fmt.Sprintf("%d returns issued for %s.", n, p.Name()))
	return redirect(w, r, "/admin/returns")
}
