package server

import (
	"net/http"
	"net/url"
	"slices"

	"ccgtracker/internal/dates"
	"ccgtracker/internal/org"
	"ccgtracker/internal/tracker"
	"ccgtracker/web/views"
)

// Every CCG's return for a month, for reviewers.

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
