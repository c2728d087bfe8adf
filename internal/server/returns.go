package server

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"ccgtracker/internal/apperr"
	"ccgtracker/internal/auth"
	"ccgtracker/internal/dates"
	"ccgtracker/internal/ledger"
	"ccgtracker/internal/org"
	"ccgtracker/internal/paging"
	"ccgtracker/internal/tracker"
	"ccgtracker/web/views"
)

// Who may do what with monthly returns (DOMAIN.md §1, §6): buyers fill in
// and submit their own CCG's; reviewers return or accept any; everyone
// else reads. Scope does the rest: a buyer sees only their CCG's returns.
var (
	returnReaders   = only(auth.Buyer, auth.Reviewer, auth.Finance, auth.Admin)
	returnWriters   = only(auth.Buyer)
	returnOverseers = only(auth.Reviewer, auth.Finance, auth.Admin)
	returnReviewers = only(auth.Reviewer)
)

// correctsName is the date a correction corrects, in words.
func correctsName(c string) string { return tracker.CorrectsName(c) }

func returnHref(ret tracker.Return) string {
	return "/ccgs/" + ret.CCGCode + "/returns/" + ret.Period.String()
}

// loadReturn reads the return the URL names, in the user's scope: another
// CCG's return is not found, exactly as a missing one.
func (s *Server) loadReturn(r *http.Request) (tracker.Return, error) {
	p, ok := tracker.ParsePeriod(chi.URLParam(r, "period"))
	if !ok {
		return tracker.Return{}, errNotFound
	}
	return tracker.Get(r.Context(), s.pool, currentUser(r).Scope(), strings.ToUpper(chi.URLParam(r, "code")), p)
}

// returnTiming says how the return stands against its due date: days left
// while open, days late once past it (and for good once submitted late).
func returnTiming(ret tracker.Return, now time.Time) (string, bool) {
	if late := ret.DaysLate(now); late > 0 {
		return fmt.Sprintf("%d %s late", late, plural(late, "day")), true
	}
	if ret.SubmittedAt != nil {
		return "On time", false
	}
	switch left := int(ret.DueDate.Sub(dates.Today(now)).Hours() / 24); left {
	case 0:
		return "Due today", false
	default:
		return fmt.Sprintf("%d %s left", left, plural(left, "day")), false
	}
}

func submittedAt(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.In(dates.London).Format("2 January 2006 15:04")
}

func returnRow(ret tracker.Return, now time.Time) views.ReturnRow {
	timing, late := returnTiming(ret, now)
	return views.ReturnRow{
		Href: returnHref(ret), CCGCode: ret.CCGCode, CCGName: ret.CCGName, Region: ret.RegionName,
		Period: ret.Period.String(), PeriodName: ret.Period.Name(), PeriodEnd: dates.Long(ret.Period.Last()),
		Status: ret.Status.Name(), StatusTone: returnTone(ret.Status),
		DueDate: dates.Long(ret.DueDate), Submitted: submittedAt(ret.SubmittedAt),
		Timing: timing, Late: late, Submissions: ret.Submissions,
	}
}

// lineRow is a change line as the pages show it; names holds the item
// names of services the line's own query does not (a migration's new one).
func lineRow(l tracker.Line, n int, names map[int64]string) views.LineView {
	v := views.LineView{
		ID: l.ID, Number: n, Kind: string(l.Kind), KindName: l.Kind.Name(),
		Practice: l.PracticeName + " (" + l.PracticeCode + ")", Date: dates.Long(l.Date), Note: l.Note,
		ReviewerComment: l.ReviewerComment, Requested: l.Requested, Carried: l.CarriedFrom != nil,
		Targets: strings.Join(l.Targets, ", "),
	}
	if l.InstanceRef != "" {
		v.Service = l.InstanceRef + " (" + l.ItemName + ")"
	}
	if l.NewInstanceRef != "" {
		v.NewService = l.NewInstanceRef
		if l.NewInstanceID != nil && names[*l.NewInstanceID] != "" {
			v.NewService += " (" + names[*l.NewInstanceID] + ")"
		}
	}
	if l.Corrects != "" {
		v.Corrects = correctsName(l.Corrects)
	}
	return v
}

// newServiceNames looks up the item names of the lines' new services.
func (s *Server) newServiceNames(r *http.Request, lines []tracker.Line) (map[int64]string, error) {
	var ids []int64
	for _, l := range lines {
		if l.NewInstanceID != nil {
			ids = append(ids, *l.NewInstanceID)
		}
	}
	names := map[int64]string{}
	if len(ids) == 0 {
		return names, nil
	}
	found, err := ledger.ByIDs(r.Context(), s.pool, ids)
	if err != nil {
		return nil, err
	}
	for id, i := range found {
		names[id] = i.ItemName
	}
	return names, nil
}

// returnView fills what every page of a return shows.
func (s *Server) returnView(r *http.Request, ret tracker.Return) (views.ReturnView, error) {
	u := currentUser(r)
	v := views.ReturnView{
		ReturnRow: returnRow(ret, s.now()), Version: ret.Version, NilReturn: ret.NilReturn,
		ReviewComment: ret.ReviewComment, ReviewedBy: ret.ReviewedBy,
		CanEdit:    u.Role == auth.Buyer && ret.Editable,
		CanReview:  u.Role == auth.Reviewer && ret.Status == tracker.Submitted,
		IsReviewer: u.Role == auth.Reviewer,
		// A return sent back keeps the reviewer's word in view until the
		// CCG submits it again.
		ShowReview: ret.ReviewedAt != nil && (ret.Status == tracker.Returned || ret.Status == tracker.Draft),
	}
	if ret.ReviewedAt != nil {
		v.ReviewedAt = dates.Long(dates.Today(*ret.ReviewedAt))
	}
	if !ret.Period.Ended(s.now()) {
		v.SubmitFrom = dates.Long(ret.Period.SubmittableFrom())
	}
	names, err := s.newServiceNames(r, ret.Lines)
	if err != nil {
		return v, err
	}
	for i, l := range ret.Lines {
		v.Lines = append(v.Lines, lineRow(l, i+1, names))
	}
	return v, nil
}

// returnCrumbs lead from a return's pages back to the CCG's returns.
func returnCrumbs(u *auth.User, ret tracker.Return, more ...views.Link) []views.Link {
	crumbs := []views.Link{{Label: "Dashboard", Href: "/"}}
	if u.Role != auth.Buyer {
		crumbs = append(crumbs, views.Link{Label: "Monthly returns", Href: "/returns?period=" + ret.Period.String()})
	}
	crumbs = append(crumbs, views.Link{Label: ret.CCGName, Href: "/ccgs/" + ret.CCGCode},
		views.Link{Label: "Returns of " + ret.CCGName, Href: "/ccgs/" + ret.CCGCode + "/returns"})
	return append(crumbs, more...)
}

func (s *Server) returnPage(r *http.Request, ret tracker.Return, title string, more ...views.Link) views.Page {
	return s.page(r, title+", "+ret.CCGName, returnCrumbs(currentUser(r), ret, more...)...)
}

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
			f.Values = map[string]string{"practice": query.Get("practice"), "instance": query.Get("instance")}
		}
		if err := s.lineFormOptions(r, ret, &v, &f); err != nil {
			return err
		}
	}
	keep := url.Values{views.ServiceSearchInput: {filter.Search}, views.ServiceStateInput: {string(filter.State)},
		views.ServiceItemInput: {filter.ItemID}, "practice": {v.LinePractice.Code}}
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
		views.ServiceItemInput: query.Get(views.ServiceItemInput), "page": query.Get("page"), "practice": practice, "instance": instance} {
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
	lp.Search = strings.TrimSpace(f.Value("practice"))
	if _, practice, ok := tracker.ParseRef(f.Value("instance")); ok && lp.Search == "" {
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
	f.Values["practice"] = lp.Code

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

// refusal is how a refused action on a return is shown again: the
// domain's problems (with what the form could not read, merged by check)
// beside their fields, 400; a refusal of the whole action at the top of
// the page, against the return's status, 400, or 409 when the return
// changed meanwhile. What the person typed is kept, and the page carries
// the current version, so they can check and send it again. ok is false
// for any other error, which the handler returns.
func refusal(err error, f *form, fields ...string) (views.Form, int, bool) {
	err = f.check(err)
	var e *apperr.Error
	if !errors.As(err, &e) || (e.Code != apperr.Invalid && e.Code != apperr.Conflict) {
		return views.Form{}, 0, false
	}
	if e.Code == apperr.Invalid && len(e.Fields) > 0 {
		out, _ := formOf(err, f.values, fields...)
		return out, http.StatusBadRequest, true
	}
	out := views.Form{Values: map[string]string{}}
	for k := range f.values {
		out.Values[k] = f.values.Get(k)
	}
	out.Errors = []views.FieldError{{Field: views.ReturnStatusID, Message: e.Message}}
	if e.Code == apperr.Conflict {
		return out, http.StatusConflict, true
	}
	return out, http.StatusBadRequest, true
}

// pendingConfirmation reads the confirmation of a requested change (its
// carried-from): the requested line is taken as it was accepted, with its
// actual date; the form carries nothing else to trust. id is the
// requested line's.
func (s *Server) pendingConfirmation(r *http.Request, ret tracker.Return, f *form) (lf lineForm, id int64, err error) {
	cf, _ := strconv.ParseInt(f.text(views.CarriedFromInput), 10, 64)
	pending, err := tracker.Pending(r.Context(), s.pool, ret.CCGCode, ret.Period)
	if err != nil {
		return lineForm{}, 0, err
	}
	lf = lineForm{f: f}
	for _, l := range pending {
		if l.ID == cf {
			lf.line = tracker.LineInput{Kind: l.Kind, Practice: l.PracticeCode, Instance: l.InstanceRef, NewInstance: l.NewInstanceRef,
				Targets: l.Targets, OtherCCGConfirmed: l.OtherCCGConfirmed, Corrects: l.Corrects, Note: l.Note, CarriedFrom: &l.ID,
				Date: f.date(views.PendingDateInput(l.ID), tracker.FieldDate, "Actual date")}
			return lf, l.ID, nil
		}
	}
	return lf, 0, apperr.New(apperr.Conflict, "That requested change is no longer waiting for its date: it may have been confirmed already.")
}

// confirmationShown is a refused confirmation shown again on the return's
// page: its date beside its date input, anything else wrong with it on
// its card.
func confirmationShown(f *form, err error, id int64) (views.Form, bool) {
	err = f.check(err)
	var e *apperr.Error
	if !errors.As(err, &e) || e.Code != apperr.Invalid || len(e.Fields) == 0 {
		return views.Form{}, false
	}
	out := views.Form{Values: map[string]string{}}
	for k := range f.values {
		out.Values[k] = f.values.Get(k)
	}
	for _, field := range lineFieldOrder {
		if msg, ok := e.Fields[field]; ok {
			input := views.PendingFormID(id)
			if field == tracker.FieldDate {
				input = views.DateInputID(views.PendingDateInput(id))
			}
			out.Errors = append(out.Errors, views.FieldError{Field: input, Message: msg})
		}
	}
	return out, true
}

// returnAddLine adds a change line from the general form, or a requested
// change's actual date.
func (s *Server) returnAddLine(w http.ResponseWriter, r *http.Request) error {
	ret, err := s.loadReturn(r)
	if err != nil {
		return err
	}
	render := func(status int, f views.Form) error {
		now, gerr := s.loadReturn(r)
		if gerr != nil {
			return gerr
		}
		return s.renderReturn(w, r, now, status, f, nil)
	}
	f := readForm(r)
	if f.text(views.CarriedFromInput) != "" {
		lf, id, err := s.pendingConfirmation(r, ret, f)
		if err == nil {
			err = s.amendLine(r, ret, lf, 0)
		}
		if form, ok := confirmationShown(f, err, id); ok {
			return render(http.StatusBadRequest, form)
		}
		if handled, rerr := lineFormRefused(lf, err, false, render); handled {
			return rerr
		}
		if err != nil {
			return err
		}
		s.flash(r.Context(), "The actual date of the requested "+strings.ToLower(lf.line.Kind.Name())+" at "+lf.line.Practice+" added to the return.")
		return redirect(w, r, returnHref(ret))
	}
	lf := parseLineForm(f)
	err = s.amendLine(r, ret, lf, 0)
	if handled, rerr := lineFormRefused(lf, err, false, render); handled {
		return rerr
	}
	if err != nil {
		return err
	}
	s.flash(r.Context(), lf.line.Kind.Name()+" at "+lf.line.Practice+" added to the return.")
	return redirect(w, r, returnHref(ret))
}

// returnDeleteLine takes a change line off the return.
func (s *Server) returnDeleteLine(w http.ResponseWriter, r *http.Request) error {
	u := currentUser(r)
	ret, err := s.loadReturn(r)
	if err != nil {
		return err
	}
	id, perr := strconv.ParseInt(chi.URLParam(r, "lineID"), 10, 64)
	if perr != nil {
		return errNotFound
	}
	err = tracker.DeleteLine(r.Context(), s.pool, s.now(), &u.ID, u.Scope(), ret.CCGCode, ret.Period, version(r), id)
	var e *apperr.Error
	if errors.As(err, &e) && (e.Code == apperr.Invalid || e.Code == apperr.Conflict) && !apperr.Is(err, apperr.NotFound) {
		now, gerr := s.loadReturn(r)
		if gerr != nil {
			return gerr
		}
		msg := e.Message
		for _, m := range e.Fields {
			msg = m // what removing it would break
		}
		status := http.StatusBadRequest
		if e.Code == apperr.Conflict {
			status = http.StatusConflict
		}
		if _, _, lerr := loadLine(r, now); lerr != nil {
			return s.renderReturn(w, r, now, status, views.Form{Errors: []views.FieldError{{Field: views.ReturnStatusID, Message: msg}}}, nil)
		}
		return s.renderLineRemove(w, r, now, status, views.Form{Errors: []views.FieldError{{Field: views.ReturnStatusID, Message: msg}}})
	}
	if err != nil {
		return err
	}
	s.flash(r.Context(), "The change is removed from the return.")
	return redirect(w, r, returnHref(ret))
}

// returnCheck is "check your answers" before submitting.
func (s *Server) returnCheck(w http.ResponseWriter, r *http.Request) error {
	ret, err := s.loadReturn(r)
	if err != nil {
		return err
	}
	return s.renderCheck(w, r, ret, http.StatusOK, views.Form{})
}

func (s *Server) renderCheck(w http.ResponseWriter, r *http.Request, ret tracker.Return, status int, f views.Form) error {
	v, err := s.returnView(r, ret)
	if err != nil {
		return err
	}
	// Only an open return is checked against the ledger: an accepted one
	// has changed the ledger itself, and a submitted one is the
	// reviewer's to weigh.
	if ret.Editable {
		if v.Problems, err = tracker.Problems(r.Context(), s.pool, ret); err != nil {
			return err
		}
	}
	s.render(w, r, status, views.ReturnCheck(views.ReturnCheckPage{
		Page:   s.returnPage(r, ret, "Check your answers", views.Link{Label: "Return for " + ret.Period.Name(), Href: returnHref(ret)}),
		Return: v, Form: f,
	}))
	return nil
}

// returnSubmit sends the return with its changes.
func (s *Server) returnSubmit(w http.ResponseWriter, r *http.Request) error {
	return s.submitReturn(w, r, false)
}

// returnNil sends the return saying there were no changes this month.
func (s *Server) returnNil(w http.ResponseWriter, r *http.Request) error {
	return s.submitReturn(w, r, true)
}

func (s *Server) submitReturn(w http.ResponseWriter, r *http.Request, nilReturn bool) error {
	u := currentUser(r)
	ret, err := s.loadReturn(r)
	if err != nil {
		return err
	}
	err = tracker.Submit(r.Context(), s.pool, s.now(), &u.ID, u.Scope(), ret.CCGCode, ret.Period, version(r), nilReturn)
	// What stops a submission is shown where it was made; a return that
	// changed meanwhile is shown as it is now.
	if form, status, ok := refusal(err, readForm(r)); ok {
		now, err := s.loadReturn(r)
		if err != nil {
			return err
		}
		if !nilReturn && status == http.StatusBadRequest {
			return s.renderCheck(w, r, now, status, form)
		}
		return s.renderReturn(w, r, now, status, form, nil)
	}
	if err != nil {
		return err
	}
	msg := "Your return for " + ret.Period.Name() + " is submitted. NHS Digital will review it."
	if nilReturn {
		msg = "Your nil return for " + ret.Period.Name() + " is submitted: no changes this month."
	}
	s.flash(r.Context(), msg)
	return redirect(w, r, returnHref(ret))
}

// xlsxType is the media type of an Excel workbook.
const xlsxType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

// returnDownload is the return as a workbook: the services it is about,
// the requested changes awaiting a date, and its Changes sheet.
func (s *Server) returnDownload(w http.ResponseWriter, r *http.Request) error {
	ret, err := s.loadReturn(r)
	if err != nil {
		return err
	}
	services, err := ledger.InPeriod(r.Context(), s.pool, ret.CCGCode, ret.Period.First(), ret.Period.Last())
	if err != nil {
		return err
	}
	pending, err := tracker.Pending(r.Context(), s.pool, ret.CCGCode, ret.Period)
	if err != nil {
		return err
	}
	// Built whole before anything is sent, so that a failure is an error
	// page, not half a file.
	var buf bytes.Buffer
	if err := tracker.WriteXLSX(&buf, ret, services, pending); err != nil {
		return err
	}
	w.Header().Set("Content-Type", xlsxType)
	// The name is the server's own: codes and months are letters, digits
	// and hyphens, nothing a header needs to escape.
	w.Header().Set("Content-Disposition", `attachment; filename="return-`+ret.CCGCode+`-`+ret.Period.String()+`.xlsx"`)
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.Header().Set("Cache-Control", "no-store")
	if r.Method == http.MethodHead {
		return nil
	}
	_, err = buf.WriteTo(w)
	return err
}

// uploadOverhead is what a multipart request adds to its file: the
// version field, the part headers and boundaries.
const uploadOverhead = 64 << 10

func uploadProblems(errs []tracker.RowError) []views.UploadProblem {
	sort.SliceStable(errs, func(a, b int) bool { return errs[a].Row < errs[b].Row })
	out := make([]views.UploadProblem, len(errs))
	for i, e := range errs {
		out[i] = views.UploadProblem{Column: e.Column, Message: e.Message}
		if e.Row > 0 {
			out[i].Row = strconv.Itoa(e.Row)
		}
	}
	return out
}

// returnUpload adds the changes of an uploaded file (XLSX or CSV, in the
// layout of the workbook's Changes sheet), all or none: if any row has a
// problem, of reading or of the domain's, nothing is added and every
// problem is listed by row and column.
func (s *Server) returnUpload(w http.ResponseWriter, r *http.Request) error {
	u := currentUser(r)
	r.Body = http.MaxBytesReader(w, r.Body, tracker.MaxUploadBytes+uploadOverhead)
	ret, err := s.loadReturn(r)
	if err != nil {
		return err
	}
	refuse := func(msg string) error {
		return s.renderReturn(w, r, ret, http.StatusBadRequest, views.Form{}, []views.UploadProblem{{Message: msg}})
	}
	if err := r.ParseMultipartForm(1 << 20); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return refuse("The file is larger than 5 MB: a return's changes fit in far less. Upload only the workbook's Changes sheet, or save it as CSV")
		}
		return refuse("The file could not be read: choose the Excel (.xlsx) or CSV file of your changes and upload it again")
	}
	defer r.MultipartForm.RemoveAll()
	file, header, err := r.FormFile("file")
	if err != nil {
		return refuse("Choose the Excel (.xlsx) or CSV file of your changes to upload")
	}
	defer file.Close()

	rows, rowErrs := tracker.ParseChangeRows(file, header.Filename)
	// The downloaded workbook carries the lines already on the return,
	// each with its ID: a row with one changes or removes that line, a row
	// without adds one.
	read := len(rows)
	changes, at, amendErrs := tracker.AmendmentOf(ret, rows)
	rowErrs = append(rowErrs, amendErrs...)
	byRow := func(probs map[int]map[string]string) {
		for i, fields := range probs {
			rowErrs = append(rowErrs, tracker.FieldRowErrors(at[i], fields)...)
		}
	}
	if len(rowErrs) > 0 {
		// The rows that could be read are checked too, saving nothing, so
		// that the buyer puts the whole file right in one go.
		if len(changes) > 0 {
			probs, err := tracker.CheckAmendment(r.Context(), s.pool, u.Scope(), ret.CCGCode, ret.Period, changes)
			if err != nil && !apperr.Is(err, apperr.Invalid) {
				return err
			}
			byRow(probs)
		}
		return s.renderReturn(w, r, ret, http.StatusBadRequest, views.Form{}, uploadProblems(rowErrs))
	}
	if len(changes) == 0 && read > 0 {
		return refuse("Every row of the file is already on the return as it is: nothing was changed")
	}
	if len(changes) == 0 {
		return refuse("The file has no changes in it: put them in the rows below the headings of the Changes sheet")
	}
	probs, err := tracker.Amend(r.Context(), s.pool, s.now(), &u.ID, u.Scope(), ret.CCGCode, ret.Period, version(r), changes)
	if len(probs) > 0 {
		byRow(probs)
		return s.renderReturn(w, r, ret, http.StatusBadRequest, views.Form{}, uploadProblems(rowErrs))
	}
	if form, status, ok := refusal(err, readForm(r)); ok {
		now, err := s.loadReturn(r)
		if err != nil {
			return err
		}
		return s.renderReturn(w, r, now, status, form, nil)
	}
	if err != nil {
		return err
	}
	added, edited, removed := 0, 0, 0
	for _, c := range changes {
		switch {
		case c.ID == 0:
			added++
		case c.Remove:
			removed++
		default:
			edited++
		}
	}
	var did []string
	if added > 0 {
		did = append(did, fmt.Sprintf("%d %s added", added, plural(added, "change")))
	}
	if edited > 0 {
		did = append(did, fmt.Sprintf("%d changed", edited))
	}
	if removed > 0 {
		did = append(did, fmt.Sprintf("%d removed", removed))
	}
	if edited == 0 && removed == 0 {
		s.flash(r.Context(), fmt.Sprintf("%d %s from %s added to the return.", added, plural(added, "change"), header.Filename))
	} else {
		s.flash(r.Context(), "From "+header.Filename+": "+strings.Join(did, ", ")+".")
	}
	return redirect(w, r, returnHref(ret))
}
