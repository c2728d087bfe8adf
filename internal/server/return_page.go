package server

import (
	"net/http"
	"net/url"
	"strings"

	"ccgtracker/internal/dates"
	"ccgtracker/internal/ledger"
	"ccgtracker/internal/org"
	"ccgtracker/internal/paging"
	"ccgtracker/internal/tracker"
	"ccgtracker/web/views"
)

// The buyer's page of a return: its services (searched, filtered, paged),
// what needs attention, and the add-a-change form's first step.

// returnShow is a return's page.
func (s *Server) returnShow(w http.ResponseWriter, r *http.Request) error {
	ret, err := s.loadReturn(r)
	if err != nil {
		return err
	}
	return s.renderReturn(w, r, ret, http.StatusOK, views.Form{}, nil)
}

// returnServicesPerPage is how many of a return's services its page lists
// at once: the biggest CCGs have thousands (DOMAIN.md §9, and ten times
// that in the benchmark's data), and the page must stay light.
const returnServicesPerPage = 25

// linePracticeMatches is how many practices a search of the add-a-change
// form lists to choose from.
const linePracticeMatches = 10

// renderReturn shows the return with a page of the services it is about,
// the requested changes awaiting a date and, for its buyers while it is
// open, the forms that change it. The services' search and page come from
// the query (?q=, ?page=); the add-a-change form's practice from the form
// being shown again, or the query (?practice=) when it is first chosen.
func (s *Server) renderReturn(w http.ResponseWriter, r *http.Request, ret tracker.Return, status int, f views.Form, upload []views.UploadProblem) error {
	ctx := r.Context()
	v, err := s.returnView(r, ret)
	if err != nil {
		return err
	}
	query := r.URL.Query()
	filter, err := s.serviceFilter(r, ret, &v)
	if err != nil {
		return err
	}
	services := func(p paging.Page) (paging.Result[ledger.Instance], error) {
		return ledger.InPeriodPage(ctx, s.pool, ret.CCGCode, ret.Period.First(), ret.Period.Last(), filter, p)
	}
	page, err := services(paging.Parse(query.Get("page"), returnServicesPerPage))
	if err == nil && len(page.Rows) == 0 && page.Total > 0 {
		// A page past the end (the list shrank, or a link was edited):
		// the last page rather than an empty one.
		page, err = services(paging.Page{Number: page.Pages(), Size: returnServicesPerPage})
	}
	if err != nil {
		return err
	}
	if v.CanEdit {
		if f.Values == nil {
			// Not a form shown again: the choices a link made (a service's
			// Report a change, a practice found) fill it in.
			f.Values = map[string]string{views.LinePracticeInput: query.Get(views.LinePracticeInput), tracker.FieldInstance: query.Get(tracker.FieldInstance)}
		}
		if err := s.lineFormOptions(r, ret, &v, &f); err != nil {
			return err
		}
	}
	keep := url.Values{views.ServiceSearchInput: {filter.Search}, views.ServiceStateInput: {string(filter.State)},
		views.ServiceItemInput: {filter.ItemID}, views.LinePracticeInput: {v.LinePractice.Code}}
	v.ServicePager = pager(page, returnHref(ret), keep)
	v.ServicePager.Fragment = "services"
	for _, si := range page.Rows {
		row := views.ReturnService{LedgerRow: ledgerRow(si)}
		if v.CanEdit {
			row.Report = returnHref(ret) + "/services/" + si.Ref() + "/report"
		}
		v.Services = append(v.Services, row)
	}
	if v.Proposals, err = s.returnProposals(r, ret, v.CanEdit); err != nil {
		return err
	}
	if ret.Status != tracker.Accepted {
		pending, err := tracker.Pending(ctx, s.pool, ret.CCGCode, ret.Period)
		if err != nil {
			return err
		}
		names, err := s.newServiceNames(r, pending)
		if err != nil {
			return err
		}
		for _, l := range pending {
			v.Pending = append(v.Pending, lineRow(l, 0, names))
		}
	}
	if v.CanEdit {
		if err := s.returnAttention(r, ret, &v); err != nil {
			return err
		}
	}
	s.render(w, r, status, views.ReturnPage(views.ReturnShowPage{
		Page: s.returnPage(r, ret, "Return for "+ret.Period.Name()), Return: v, Form: f, Upload: upload,
	}))
	return nil
}

// returnServiceStates are the states a return's services can be in: a
// cancelled service never went live, so it is never in a month's return.
var returnServiceStates = []ledger.State{ledger.Planned, ledger.Active, ledger.Ceased}

// serviceFilter reads the services' filters from the query (?q=, ?state=,
// ?item=) and fills the filter form with its options: the states a
// return's services can be in, and the items of this CCG's services in
// the month (one query). A state or item not offered is ignored, as if
// not chosen, rather than refused: it can only come from an edited link.
func (s *Server) serviceFilter(r *http.Request, ret tracker.Return, v *views.ReturnView) (ledger.PeriodFilter, error) {
	query := r.URL.Query()
	f := ledger.PeriodFilter{Search: strings.TrimSpace(query.Get(views.ServiceSearchInput))}
	var described []string
	if f.Search != "" {
		described = append(described, "“"+f.Search+"”")
	}
	v.ServiceStates = []views.Option{{Value: "", Label: "Every state"}}
	for _, st := range returnServiceStates {
		label, _ := ledgerState(st)
		v.ServiceStates = append(v.ServiceStates, views.Option{Value: string(st), Label: label})
		if query.Get(views.ServiceStateInput) == string(st) {
			f.State = st
			described = append(described, strings.ToLower(label))
		}
	}
	items, err := ledger.ItemsInPeriod(r.Context(), s.pool, ret.CCGCode, ret.Period.First(), ret.Period.Last())
	if err != nil {
		return f, err
	}
	v.ServiceItems = []views.Option{{Value: "", Label: "Every item"}}
	for _, it := range items {
		v.ServiceItems = append(v.ServiceItems, views.Option{Value: it.ID, Label: it.Name})
		if query.Get(views.ServiceItemInput) == it.ID {
			f.ItemID = it.ID
			described = append(described, it.Name)
		}
	}
	v.ServiceSearch = f.Search
	v.ServiceFiltered = strings.Join(described, ", ")
	v.ServiceFilter = views.Form{Values: map[string]string{
		views.ServiceSearchInput: f.Search, views.ServiceStateInput: string(f.State), views.ServiceItemInput: f.ItemID}}
	return f, nil
}

// returnAttentionRows is how many planned services due to go live the top
// of a return lists; the rest are a link away.
const returnAttentionRows = 10

// returnAttention fills what needs the buyer this month: the planned
// services due to go live by the end of the return's month (one bounded
// query, overdue first), each linked to its Report a change, the changes
// ODS shows still to decide and the requested changes awaiting their date
// (both already read for the page).
func (s *Server) returnAttention(r *http.Request, ret tracker.Return, v *views.ReturnView) error {
	due, total, err := ledger.DueToGoLive(r.Context(), s.pool, ret.CCGCode, ret.Period.Last(), returnAttentionRows)
	if err != nil {
		return err
	}
	today := dates.Today(s.now())
	a := &v.Attention
	a.DueTotal, a.Pending = total, len(v.Pending)
	for _, c := range v.Proposals.Cards {
		if !c.Note && c.Outcome == "" {
			a.Proposals++
		}
	}
	a.DueHref = returnHref(ret) + "?" + url.Values{views.ServiceStateInput: {string(ledger.Planned)}}.Encode() + "#services"
	for _, i := range due {
		a.Due = append(a.Due, views.DueService{
			Ref: i.Ref(), Href: returnHref(ret) + "/services/" + i.Ref() + "/report", Practice: i.PracticeName + " (" + i.PracticeCode + ")",
			Item: i.ItemName, PlannedM1: dates.LongPtr(i.PlannedM1), Overdue: i.PlannedM1 != nil && i.PlannedM1.Before(today),
		})
	}
	a.Show = len(a.Due) > 0 || a.Proposals > 0 || a.Pending > 0
	return nil
}

// returnLink is a link to the return's page that keeps the services'
// filters and page the request shows, choosing a practice and a service
// for the add-a-change form when they are not empty, landing at fragment.
func returnLink(r *http.Request, ret tracker.Return, practice, instance, fragment string) string {
	q := url.Values{}
	query := r.URL.Query()
	for k, val := range map[string]string{views.ServiceSearchInput: query.Get(views.ServiceSearchInput), views.ServiceStateInput: query.Get(views.ServiceStateInput),
		views.ServiceItemInput: query.Get(views.ServiceItemInput), "page": query.Get("page"), views.LinePracticeInput: practice, tracker.FieldInstance: instance} {
		if val != "" {
			q.Set(k, val)
		}
	}
	href := returnHref(ret)
	if len(q) > 0 {
		href += "?" + q.Encode()
	}
	return href + "#" + fragment
}

// lineFormOptions fills the add-a-change form: first the practice, found
// from what f holds (a code or part of a name; for a change sent with a
// service and no practice, the service's practice); once there is one,
// the kinds and that practice's services only (every state: a correction
// may be about one that ceased before the month), and its planned ones
// for a migration's new service. While no practice is chosen, the
// problems of the rest of the change are not shown: they depend on it.
func (s *Server) lineFormOptions(r *http.Request, ret tracker.Return, v *views.ReturnView, f *views.Form) error {
	ctx := r.Context()
	scope := currentUser(r).Scope()
	lp := &v.LinePractice
	lp.Search = strings.TrimSpace(f.Value(views.LinePracticeInput))
	if _, practice, ok := tracker.ParseRef(f.Value(tracker.FieldInstance)); ok && lp.Search == "" {
		lp.Search = practice
	}
	link := func(practice string) string { return returnLink(r, ret, practice, "", "add") }
	if lp.Search != "" && f.Error(tracker.FieldPractice) == "" {
		lp.Searched = true
		found, err := org.ListPractices(ctx, s.pool, scope, ret.CCGCode, lp.Search, paging.Page{Number: 1, Size: linePracticeMatches})
		if err != nil {
			return err
		}
		for _, p := range found.Rows {
			if p.Code == strings.ToUpper(lp.Search) || found.Total == 1 {
				lp.Code, lp.Name = p.Code, p.Name
			}
		}
		if lp.Code == "" {
			for _, p := range found.Rows {
				lp.Matches = append(lp.Matches, views.Link{Label: p.Name + " (" + p.Code + ")", Href: link(p.Code)})
			}
			lp.More = found.Total - len(found.Rows)
		}
	}
	if lp.Code == "" {
		var kept []views.FieldError
		for _, e := range f.Errors {
			// The change's own problems wait for its practice; a
			// requested change's confirmation has its own card.
			if e.Field == tracker.FieldPractice || e.Field == views.ReturnStatusID || views.IsPendingInput(e.Field) {
				kept = append(kept, e)
			}
		}
		f.Errors = kept
		return nil
	}
	lp.Change = link("")
	if f.Values == nil {
		f.Values = map[string]string{}
	}
	f.Values[views.LinePracticeInput] = lp.Code

	services, err := s.practiceServices(r, ret, lp.Code)
	if err != nil {
		return err
	}
	v.AddForm = views.LineFormView{
		Action: returnHref(ret) + "/lines", Version: ret.Version,
		Hidden: []views.Hidden{{Name: views.LinePracticeInput, Value: lp.Code}},
		Legend: "Kind of change", Kinds: kindViews(tracker.KindSpecs(), services, nil, lp.Name),
		DateHint: dateHint(ret), Submit: "Add change",
	}
	return nil
}
