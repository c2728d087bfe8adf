package server

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"ccgtracker/internal/dates"
	"ccgtracker/internal/ledger"
	"ccgtracker/internal/org"
	"ccgtracker/internal/tracker"
	"ccgtracker/web/views"
)

// returnStatusFilters are the statuses the reviewer's list filters by, in
// the order of a return's life; "late" is any return past its due date.
var returnStatusFilters = []struct{ value, label string }{
	{string(tracker.Issued), tracker.Issued.Name()},
	{string(tracker.Draft), tracker.Draft.Name()},
	{string(tracker.Submitted), tracker.Submitted.Name()},
	{string(tracker.Returned), tracker.Returned.Name()},
	{string(tracker.Accepted), tracker.Accepted.Name()},
	{"late", "Late"},
}

// returnList is every CCG's return for a month (by default last month,
// whose returns fall due this month), with counts by status, filtered by
// region and status.
func (s *Server) returnList(w http.ResponseWriter, r *http.Request) error {
	u := currentUser(r)
	q := r.URL.Query()
	now := s.now()
	thisMonth := tracker.PeriodOf(dates.Today(now))
	p, ok := tracker.ParsePeriod(q.Get(views.PeriodInput))
	if !ok {
		p = thisMonth.Prev()
	}
	region := q.Get(views.RegionInput)
	status := ""
	for _, st := range returnStatusFilters {
		if q.Get(views.StatusInput) == st.value {
			status = st.value
		}
	}
	// One query for the region; the counts and the status filter are
	// worked out from it, so they always agree.
	all, err := tracker.List(r.Context(), s.pool, u.Scope(), p, now, tracker.ListFilter{Region: region})
	if err != nil {
		return err
	}
	matches := func(ret tracker.Return, st string) bool {
		if st == "late" {
			return ret.DaysLate(now) > 0
		}
		return st == "" || string(ret.Status) == st
	}
	href := func(st string) string {
		v := url.Values{views.PeriodInput: {p.String()}}
		if region != "" {
			v.Set(views.RegionInput, region)
		}
		if st != "" {
			v.Set(views.StatusInput, st)
		}
		return "/returns?" + v.Encode()
	}
	counts := []views.ReturnCount{{Label: "All", Href: href(""), Count: len(all), Current: status == ""}}
	for _, st := range returnStatusFilters {
		c := views.ReturnCount{Label: st.label, Href: href(st.value), Current: status == st.value}
		for _, ret := range all {
			if matches(ret, st.value) {
				c.Count++
			}
		}
		counts = append(counts, c)
	}
	var shownReturns []tracker.Return
	for _, ret := range all {
		if matches(ret, status) {
			shownReturns = append(shownReturns, ret)
		}
	}
	// By CCG name (as listed), or the latest first.
	sortBy := q.Get(views.SortInput)
	if sortBy == "late" {
		slices.SortStableFunc(shownReturns, func(a, b tracker.Return) int { return b.DaysLate(now) - a.DaysLate(now) })
	}
	rows := make([]views.ReturnRow, len(shownReturns))
	for i, ret := range shownReturns {
		rows[i] = returnRow(ret, now)
	}

	regions, err := org.ListRegions(r.Context(), s.pool, u.Scope())
	if err != nil {
		return err
	}
	regionOpts := []views.Option{{Value: "", Label: "All regions"}}
	for _, rg := range regions {
		regionOpts = append(regionOpts, views.Option{Value: rg.Code, Label: rg.Name})
	}
	statusOpts := []views.Option{{Value: "", Label: "Every status"}}
	for _, st := range returnStatusFilters {
		statusOpts = append(statusOpts, views.Option{Value: st.value, Label: st.label})
	}
	// The months offered: two years back from this one, and the one shown.
	var periodOpts []views.Option
	shown := false
	for m, i := thisMonth, 0; i < 25; m, i = m.Prev(), i+1 {
		periodOpts = append(periodOpts, views.Option{Value: m.String(), Label: m.Name()})
		shown = shown || m == p
	}
	if !shown {
		periodOpts = append(periodOpts, views.Option{Value: p.String(), Label: p.Name()})
	}
	if sortBy != "late" {
		sortBy = ""
	}
	sorts := []views.Option{{Value: "", Label: "CCG name"}, {Value: "late", Label: "Days late, most first"}}
	f := views.Form{Values: map[string]string{views.PeriodInput: p.String(), views.RegionInput: region, views.StatusInput: status, views.SortInput: sortBy}}
	s.render(w, r, http.StatusOK, views.ReturnList(views.ReturnListPage{
		Page:       s.page(r, "Monthly returns for "+p.Name(), views.Link{Label: "Dashboard", Href: "/"}),
		PeriodName: p.Name(), Rows: rows, Counts: counts, Form: f,
		Periods: periodOpts, Regions: regionOpts, Statuses: statusOpts, Sorts: sorts,
	}))
	return nil
}

// returnReview is the reviewer's page of a return.
func (s *Server) returnReview(w http.ResponseWriter, r *http.Request) error {
	ret, err := s.loadReturn(r)
	if err != nil {
		return err
	}
	return s.renderReview(w, r, ret, http.StatusOK, views.Form{})
}

// renderReview shows each line with its automatic checks and, as they are
// now, the services the lines name: once accepted, the result.
func (s *Server) renderReview(w http.ResponseWriter, r *http.Request, ret tracker.Return, status int, f views.Form) error {
	v, err := s.returnView(r, ret)
	if err != nil {
		return err
	}
	checks, err := tracker.ReviewChecks(r.Context(), s.pool, ret)
	if err != nil {
		return err
	}
	for i := range v.Lines {
		v.Lines[i].Checks = checks[v.Lines[i].ID]
	}
	var ids []int64
	for _, l := range ret.Lines {
		for _, id := range []*int64{l.InstanceID, l.NewInstanceID} {
			if id != nil {
				ids = append(ids, *id)
			}
		}
	}
	if len(ids) > 0 {
		found, err := ledger.ByIDs(r.Context(), s.pool, ids)
		if err != nil {
			return err
		}
		seen := map[int64]bool{}
		for _, id := range ids {
			if i, ok := found[id]; ok && !seen[id] {
				seen[id] = true
				v.Changed = append(v.Changed, ledgerRow(i))
			}
		}
	}
	s.render(w, r, status, views.ReturnReview(views.ReturnReviewPage{
		Page:   s.returnPage(r, ret, "Review the return for "+ret.Period.Name(), views.Link{Label: "Return for " + ret.Period.Name(), Href: returnHref(ret)}),
		Return: v, Form: f,
	}))
	return nil
}

// reviewRefused shows the review page again, as the return is now, with
// a refused action's form.
func (s *Server) reviewRefused(w http.ResponseWriter, r *http.Request, status int, f views.Form) error {
	ret, err := s.loadReturn(r)
	if err != nil {
		return err
	}
	return s.renderReview(w, r, ret, status, f)
}

// sendBackForm is what the reviewer says when returning a return: on the
// whole, and on each of its lines (by ID).
type sendBackForm struct {
	comment  string
	comments map[int64]string
}

func parseSendBackForm(f *form, ret tracker.Return) sendBackForm {
	sb := sendBackForm{comment: f.values.Get(views.ReviewCommentInput), comments: map[int64]string{}}
	for _, l := range ret.Lines {
		sb.comments[l.ID] = f.values.Get(views.LineCommentInput(l.ID))
	}
	return sb
}

// returnSendBack returns a submitted return to the CCG with the
// reviewer's comments, overall and per line.
func (s *Server) returnSendBack(w http.ResponseWriter, r *http.Request) error {
	u := currentUser(r)
	ret, err := s.loadReturn(r)
	if err != nil {
		return err
	}
	f := readForm(r)
	sb := parseSendBackForm(f, ret)
	err = tracker.ReturnToCCG(r.Context(), s.pool, s.now(), &u.ID, ret.CCGCode, ret.Period, version(r), sb.comment, sb.comments)
	if form, status, ok := refusal(err, f, views.ReviewCommentInput); ok {
		return s.reviewRefused(w, r, status, form)
	}
	if err != nil {
		return err
	}
	s.flash(r.Context(), "The return is sent back to "+ret.CCGName+" with your comments.")
	return redirect(w, r, returnHref(ret)+"/review")
}

// returnAccept accepts a submitted return: its changes dated in the month
// are applied to the service ledger in one transaction.
func (s *Server) returnAccept(w http.ResponseWriter, r *http.Request) error {
	u := currentUser(r)
	ret, err := s.loadReturn(r)
	if err != nil {
		return err
	}
	err = tracker.Accept(r.Context(), s.pool, s.now(), &u.ID, ret.CCGCode, ret.Period, version(r))
	if form, status, ok := refusal(err, readForm(r)); ok {
		return s.reviewRefused(w, r, status, form)
	}
	if err != nil {
		return err
	}
	applied, requested := 0, 0
	for _, l := range ret.Lines {
		if l.Requested {
			requested++
		} else {
			applied++
		}
	}
	msg := "The return is accepted."
	if applied > 0 {
		msg += " " + strconv.Itoa(applied) + " " + plural(applied, "change") + " applied to the service ledger."
	}
	switch {
	case requested == 1:
		msg += " 1 requested change will come back on a later return for its actual date."
	case requested > 1:
		msg += " " + strconv.Itoa(requested) + " requested changes will come back on a later return for their actual dates."
	}
	s.flash(r.Context(), msg)
	return redirect(w, r, returnHref(ret)+"/review")
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
