package server

import (
	"net/http"
	"strings"

	"ccgtracker/internal/dates"
	"ccgtracker/internal/tracker"
	"ccgtracker/web/views"
)

// A CCG's returns, and the submitted versions of one.

// returnHistory is a CCG's returns, newest first.
func (s *Server) returnHistory(w http.ResponseWriter, r *http.Request) error {
	u := currentUser(r)
	c, err := s.ledgerCCG(r) // another CCG is not found, for a buyer
	if err != nil {
		return err
	}
	list, err := tracker.History(r.Context(), s.pool, u.Scope(), c.Code)
	if err != nil {
		return err
	}
	rows := make([]views.ReturnRow, len(list))
	for i, ret := range list {
		rows[i] = returnRow(ret, s.now())
	}
	s.render(w, r, http.StatusOK, views.ReturnHistory(views.ReturnHistoryPage{
		Page: s.page(r, "Monthly returns of "+c.Name, ledgerCrumbs(u, c)...), CCG: ccgRow(c), Rows: rows,
	}))
	return nil
}

// returnVersions lists every submitted version with what changed from the
// version before.
func (s *Server) returnVersions(w http.ResponseWriter, r *http.Request) error {
	ret, err := s.loadReturn(r)
	if err != nil {
		return err
	}
	v, err := s.returnView(r, ret)
	if err != nil {
		return err
	}
	list, err := tracker.Versions(r.Context(), s.pool, ret)
	if err != nil {
		return err
	}
	describe := func(ls []tracker.VersionLine) []string {
		out := make([]string, len(ls))
		for i, l := range ls {
			out[i] = versionLine(l)
		}
		return out
	}
	var out []views.VersionView
	for i := len(list) - 1; i >= 0; i-- { // newest first
		ver := list[i]
		out = append(out, views.VersionView{
			Number: ver.Number, SubmittedAt: submittedAt(&ver.SubmittedAt), By: ver.SubmittedBy,
			NilReturn: ver.NilReturn, First: i == 0,
			Lines: describe(ver.Lines), Added: describe(ver.Added), Removed: describe(ver.Removed),
		})
	}
	s.render(w, r, http.StatusOK, views.ReturnVersions(views.ReturnVersionsPage{
		Page:   s.returnPage(r, ret, "Submitted versions of the return for "+ret.Period.Name(), views.Link{Label: "Return for " + ret.Period.Name(), Href: returnHref(ret)}),
		Return: v, Versions: out,
	}))
	return nil
}

// versionLine is a frozen line in words.
func versionLine(l tracker.VersionLine) string {
	parts := []string{l.Kind.Name() + " at " + l.Practice}
	if l.Service != "" && l.Kind.Uses(tracker.FieldInstance) {
		parts = append(parts, "of "+l.Service)
	}
	if l.NewService != "" && l.Kind.Uses(tracker.FieldNewInstance) {
		parts = append(parts, "to "+l.NewService)
	}
	if len(l.Targets) > 0 && l.Kind.Uses(tracker.FieldTargets) {
		parts = append(parts, "into "+strings.Join(l.Targets, ", "))
	}
	if l.Corrects != "" && l.Kind.Uses(tracker.FieldCorrects) {
		parts = append(parts, "correcting the "+correctsName(l.Corrects))
	}
	if d, msg := dates.ParseISO(l.Date); msg == "" {
		parts = append(parts, "on "+dates.Long(d))
	} else {
		parts = append(parts, "on "+l.Date)
	}
	s := strings.Join(parts, ", ")
	if l.Note != "" {
		s += ". Note: " + l.Note
	}
	return s
}
