package server

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"ccgtracker/internal/apperr"
	"ccgtracker/internal/auth"
	"ccgtracker/internal/dates"
	"ccgtracker/internal/ledger"
	"ccgtracker/internal/order"
	"ccgtracker/internal/org"
	"ccgtracker/internal/paging"
	"ccgtracker/internal/procurement"
	"ccgtracker/web/views"
)

// Who may do what with procurements (DOMAIN.md §1): buyers for their own
// CCG; reviewers see every CCG's and, as they may record orders on a CCG's
// behalf, may also run one for a CCG (the award makes an order). Finance
// and admins have no use for them. The domain scopes every read and write,
// so a buyer of another CCG gets 404 whatever the route table says.
var (
	procurementReaders = only(auth.Buyer, auth.Reviewer)
	procurementWriters = only(auth.Buyer, auth.Reviewer)
)

var procurementCrumbs = []views.Link{{Label: "Dashboard", Href: "/"}, {Label: "Procurements", Href: "/procurements"}}

// procurementList lists the procurements in the user's scope.
func (s *Server) procurementList(w http.ResponseWriter, r *http.Request) error {
	u := currentUser(r)
	res, err := procurement.List(r.Context(), s.pool, u.Scope(), paging.Parse(r.URL.Query().Get("page"), pageSize))
	if err != nil {
		return err
	}
	rows := make([]views.ProcurementRow, len(res.Rows))
	for i, p := range res.Rows {
		next := "Finished"
		if p.NextStep != "" {
			next = p.NextStep.Name()
		}
		rows[i] = views.ProcurementRow{Href: "/procurements/" + strconv.FormatInt(p.ID, 10), Name: p.Name,
			CCG: p.CCGName + " (" + p.CCGCode + ")", Procedure: p.Procedure.Name(), NextStep: next}
	}
	s.render(w, r, http.StatusOK, views.ProcurementList(s.page(r, "Procurements", views.Link{Label: "Dashboard", Href: "/"}), rows,
		pager(res, "/procurements", url.Values{}), procurementWriters.allows(u)))
	return nil
}

// procurementCCGOptions are the CCGs a reviewer may start a procurement
// for; a buyer's is their own, so they get none.
func (s *Server) procurementCCGOptions(r *http.Request) ([]views.Option, error) {
	u := currentUser(r)
	if u.Role == auth.Buyer {
		return nil, nil
	}
	return s.ccgOptions(r, "Select a CCG")
}

// ccgOptions are the CCGs the user may see, as the choices of a select
// whose first, empty choice says first.
func (s *Server) ccgOptions(r *http.Request, first string) ([]views.Option, error) {
	names, err := org.CCGNames(r.Context(), s.pool, currentUser(r).Scope())
	if err != nil {
		return nil, err
	}
	opts := make([]views.Option, 0, len(names)+1)
	opts = append(opts, views.Option{Value: "", Label: first})
	for _, c := range names {
		opts = append(opts, views.Option{Value: c.Code, Label: c.Name + " (" + c.Code + ")"})
	}
	return opts, nil
}

// procurementNew asks for the name (and a reviewer for the CCG).
func (s *Server) procurementNew(w http.ResponseWriter, r *http.Request) error {
	return s.renderProcurementNew(w, r, http.StatusOK, views.Form{})
}

func (s *Server) renderProcurementNew(w http.ResponseWriter, r *http.Request, status int, f views.Form) error {
	ccgs, err := s.procurementCCGOptions(r)
	if err != nil {
		return err
	}
	s.render(w, r, status, views.ProcurementNew(s.page(r, "Start a procurement", procurementCrumbs...), f, ccgs))
	return nil
}

// procurementCreate starts a procurement.
func (s *Server) procurementCreate(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return apperr.New(apperr.Invalid, "The form could not be read")
	}
	u := currentUser(r)
	ccg := r.PostForm.Get("ccg")
	if u.Role == auth.Buyer {
		ccg = u.CCGCode // a buyer procures for their own CCG, whatever the form says
	}
	p, err := procurement.Create(r.Context(), s.pool, s.now(), &u.ID, u.Scope(), ccg, r.PostForm.Get("name"))
	if f, ok := formOf(err, r.PostForm, procurement.FieldCCG, procurement.FieldName); ok {
		return s.renderProcurementNew(w, r, http.StatusBadRequest, f)
	}
	if err != nil {
		return err
	}
	s.flash(r.Context(), "Procurement started. Begin with Prepare.")
	return redirect(w, r, p.Path())
}

// loadProcurement reads the procurement of the URL in the user's scope:
// another CCG's is not found.
func (s *Server) loadProcurement(r *http.Request) (procurement.Procurement, error) {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil {
		return procurement.Procurement{}, errNotFound
	}
	return procurement.Get(r.Context(), s.pool, currentUser(r).Scope(), id)
}

// stepPaths are the pages of the steps, under the procurement's path.
var stepPaths = map[procurement.Step]string{
	procurement.StepPrepare:  "/prepare",
	procurement.StepReview:   "/shortlist",
	procurement.StepEvaluate: "/evaluate",
	procurement.StepAward:    "/award",
	procurement.StepManage:   "/manage",
}

// Task list tags, as the design system's task list uses them.
const (
	tagDone     = "nhsuk-tag--no-colour nhsuk-tag--no-border nhsuk-u-font-weight-normal"
	tagCannot   = tagDone + " nhsuk-u-secondary-text-colour"
	tagToDo     = "nhsuk-tag--blue"
	tagStarted  = "nhsuk-tag--aqua-green"
	atTimeStamp = "2 January 2006 at 15:04"
)

// started reports whether work on a step not yet completed has begun.
func started(p procurement.Procurement, st procurement.Step) bool {
	switch st {
	case procurement.StepReview:
		return len(p.Shortlist) > 0
	case procurement.StepEvaluate:
		return len(p.Scores) > 0
	}
	return false
}

// procurementView fills what every procurement page shows.
func (s *Server) procurementView(r *http.Request, p procurement.Procurement) views.ProcurementView {
	v := views.ProcurementView{
		ID: p.ID, Path: p.Path(), Name: p.Name, CCGCode: p.CCGCode, CCGName: p.CCGName, Procedure: p.Procedure.Name(),
		Version: p.Version, CanEdit: procurementWriters.allows(currentUser(r)),
		CallOffID: p.CallOffID, LatestCallOffID: p.LatestCallOffID, OrderStatus: p.LatestOrderStatus.Name(), OrderSigned: p.OrderSigned(),
		Awarded: p.State(procurement.StepAward).Status == procurement.Completed,
	}
	if w, ok := p.Solution(p.WinnerID); ok {
		v.Winner = w.Name + " (" + w.SupplierName + ")"
	}
	for _, st := range p.Steps {
		t := views.TaskView{Key: string(st.Step), Name: st.Step.Name(), Href: p.Path() + stepPaths[st.Step]}
		switch {
		case st.Status == procurement.Completed:
			t.Status, t.TagClass = "Completed", tagDone
			if st.CompletedAt != nil {
				t.Hint = "Completed by " + st.CompletedBy + " on " + st.CompletedAt.In(dates.London).Format(atTimeStamp)
			}
		case st.Status == procurement.Skipped:
			t.Status, t.TagClass, t.Href = "Skipped", tagDone, ""
			t.Hint = "A Direct Award skips this step"
		case !p.CanStart(st.Step):
			t.Status, t.TagClass, t.Href = "Cannot start yet", tagCannot, ""
			t.Hint = "Complete " + p.Needs(st.Step).Name() + " first"
		case started(p, st.Step):
			t.Status, t.TagClass = "In progress", tagStarted
		default:
			t.Status, t.TagClass = "Not started", tagToDo
		}
		v.Steps = append(v.Steps, t)
	}
	for _, c := range p.Criteria {
		v.Criteria = append(v.Criteria, views.CriterionView{ID: c.ID, Name: c.Name, Weight: c.Weight})
	}
	for _, sl := range p.Shortlist {
		v.Shortlist = append(v.Shortlist, views.SolutionView{ItemID: sl.ItemID, Name: sl.Name, Supplier: sl.SupplierName})
	}
	return v
}

// procurementPage is the page of a step, with breadcrumbs back to the
// procurement.
func (s *Server) procurementPage(r *http.Request, p procurement.Procurement, title string) views.Page {
	return s.page(r, title, append(append([]views.Link{}, procurementCrumbs...), views.Link{Label: p.Name, Href: p.Path()})...)
}

// closedReason is why a step cannot change now, "" when it can.
func closedReason(p procurement.Procurement, st procurement.Step) string {
	if err := p.CheckChange(st); err != nil {
		return apperr.MessageOf(err)
	}
	return ""
}

// procurementShow is the procurement's task list.
func (s *Server) procurementShow(w http.ResponseWriter, r *http.Request) error {
	p, err := s.loadProcurement(r)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, views.ProcurementPage(s.page(r, p.Name, procurementCrumbs...), s.procurementView(r, p)))
	return nil
}

// The Prepare form's fields, in the order the error summary lists them.
func prepareFields() []string {
	out := []string{procurement.FieldProcedure, procurement.FieldCriteria}
	for n := 1; n <= procurement.MaxCriteria; n++ {
		out = append(out, procurement.FieldCriterionName(n), procurement.FieldCriterionWeight(n))
	}
	return out
}

// criterionRows are the rows of the Prepare form: those filled in and two
// spare, at least five, at most MaxCriteria.
func criterionRows(filled int) []views.CriterionRow {
	n := min(max(5, filled+2), procurement.MaxCriteria)
	rows := make([]views.CriterionRow, n)
	for i := range rows {
		rows[i] = views.CriterionRow{N: i + 1, NameField: procurement.FieldCriterionName(i + 1), WeightField: procurement.FieldCriterionWeight(i + 1)}
	}
	return rows
}

func procedureOptions() []views.Option {
	var opts []views.Option
	for _, pr := range procurement.Procedures {
		opts = append(opts, views.Option{Value: string(pr), Label: pr.Name()})
	}
	return opts
}

// procurementPrepareForm shows the Prepare step, filled in with what was saved.
func (s *Server) procurementPrepareForm(w http.ResponseWriter, r *http.Request) error {
	p, err := s.loadProcurement(r)
	if err != nil {
		return err
	}
	f := views.Form{Values: map[string]string{procurement.FieldProcedure: string(p.Procedure)}}
	for i, c := range p.Criteria {
		f.Values[procurement.FieldCriterionName(i+1)] = c.Name
		f.Values[procurement.FieldCriterionWeight(i+1)] = strconv.Itoa(c.Weight)
	}
	s.render(w, r, http.StatusOK, views.ProcurementPrepare(s.procurementPage(r, p, "Prepare"), s.procurementView(r, p), f,
		procedureOptions(), criterionRows(len(p.Criteria)), closedReason(p, procurement.StepPrepare)))
	return nil
}

// procurementPrepare saves the procedure and criteria, completing Prepare.
func (s *Server) procurementPrepare(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return apperr.New(apperr.Invalid, "The form could not be read")
	}
	u := currentUser(r)
	p, err := s.loadProcurement(r)
	if err != nil {
		return err
	}
	in := procurement.PrepareInput{Procedure: procurement.Procedure(r.PostForm.Get(procurement.FieldProcedure))}
	filled := 0
	for n := 1; n <= procurement.MaxCriteria; n++ {
		c := procurement.CriterionInput{Row: n, Name: r.PostForm.Get(procurement.FieldCriterionName(n)), Weight: r.PostForm.Get(procurement.FieldCriterionWeight(n))}
		if strings.TrimSpace(c.Name+c.Weight) != "" {
			filled = n
		}
		in.Criteria = append(in.Criteria, c)
	}
	err = procurement.Prepare(r.Context(), s.pool, s.now(), &u.ID, u.Scope(), p.ID, version(r), in)
	if f, ok := formOf(err, r.PostForm, prepareFields()...); ok {
		v := s.procurementView(r, p)
		v.Version = version(r)
		s.render(w, r, http.StatusBadRequest, views.ProcurementPrepare(s.procurementPage(r, p, "Prepare"), v, f,
			procedureOptions(), criterionRows(filled), closedReason(p, procurement.StepPrepare)))
		return nil
	}
	if err != nil {
		return err
	}
	s.flash(r.Context(), "Prepare is completed. Next, shortlist Catalogue Solutions.")
	return redirect(w, r, p.Path())
}

// procurementShortlist is Review Catalogue Solutions: the shortlist and a
// search of the catalogue (GET q).
func (s *Server) procurementShortlist(w http.ResponseWriter, r *http.Request) error {
	p, err := s.loadProcurement(r)
	if err != nil {
		return err
	}
	return s.renderShortlist(w, r, p, http.StatusOK, views.Form{}, strings.TrimSpace(r.URL.Query().Get("q")), r.URL.Query().Get("page"))
}

func (s *Server) renderShortlist(w http.ResponseWriter, r *http.Request, p procurement.Procurement, status int, f views.Form, q, page string) error {
	res, err := procurement.Candidates(r.Context(), s.pool, p, q, paging.Parse(page, pageSize))
	if err != nil {
		return err
	}
	rows := make([]views.CandidateRow, len(res.Rows))
	for i, c := range res.Rows {
		rows[i] = views.CandidateRow{ID: c.ID, Name: c.Name, Supplier: c.SupplierName, Shortlisted: c.Shortlisted, Orderable: c.Orderable()}
	}
	v := s.procurementView(r, p)
	s.render(w, r, status, views.ProcurementShortlist(s.procurementPage(r, p, "Review Catalogue Solutions"), v, f, q, rows,
		pager(res, p.Path()+"/shortlist", url.Values{"q": {q}}), procurement.CheckShortlist(p),
		closedReason(p, procurement.StepReview), p.State(procurement.StepReview).Status == procurement.Completed))
	return nil
}

// shortlistChange runs one change of the shortlist (add, remove,
// complete): a refusal shows the shortlist again with the problem.
func (s *Server) shortlistChange(w http.ResponseWriter, r *http.Request, change func(procurement.Procurement, *auth.User) (string, string, error)) error {
	if err := r.ParseForm(); err != nil {
		return apperr.New(apperr.Invalid, "The form could not be read")
	}
	u := currentUser(r)
	p, err := s.loadProcurement(r)
	if err != nil {
		return err
	}
	q := strings.TrimSpace(r.PostForm.Get("q"))
	msg, to, err := change(p, u)
	if f, ok := formOf(err, r.PostForm, procurement.FieldItem); ok {
		return s.renderShortlist(w, r, p, http.StatusBadRequest, f, q, "")
	}
	if err != nil {
		return err
	}
	s.flash(r.Context(), msg)
	if to == "" {
		to = p.Path() + "/shortlist"
		if q != "" {
			to += "?q=" + url.QueryEscape(q)
		}
	}
	return redirect(w, r, to)
}

// procurementShortlistAdd puts a Catalogue Solution on the shortlist.
func (s *Server) procurementShortlistAdd(w http.ResponseWriter, r *http.Request) error {
	return s.shortlistChange(w, r, func(p procurement.Procurement, u *auth.User) (string, string, error) {
		item := r.PostForm.Get("item")
		if err := procurement.AddToShortlist(r.Context(), s.pool, s.now(), &u.ID, u.Scope(), p.ID, version(r), item); err != nil {
			return "", "", err
		}
		name := item
		if d, err := org.GetItem(r.Context(), s.pool, item); err == nil {
			name = d.Name
		}
		return name + " is shortlisted.", "", nil
	})
}

// procurementShortlistRemove takes a solution off the shortlist.
func (s *Server) procurementShortlistRemove(w http.ResponseWriter, r *http.Request) error {
	return s.shortlistChange(w, r, func(p procurement.Procurement, u *auth.User) (string, string, error) {
		item := r.PostForm.Get("item")
		name := item
		if sl, ok := p.Solution(item); ok {
			name = sl.Name
		}
		err := procurement.RemoveFromShortlist(r.Context(), s.pool, s.now(), &u.ID, u.Scope(), p.ID, version(r), item)
		return name + " is off the shortlist.", "", err
	})
}

// procurementReviewComplete completes Review Catalogue Solutions.
func (s *Server) procurementReviewComplete(w http.ResponseWriter, r *http.Request) error {
	return s.shortlistChange(w, r, func(p procurement.Procurement, u *auth.User) (string, string, error) {
		err := procurement.CompleteReview(r.Context(), s.pool, s.now(), &u.ID, u.Scope(), p.ID, version(r))
		next := "Next, score the solutions."
		if p.Procedure == procurement.DirectAward {
			next = "Next, award the contract."
		}
		return "The shortlist is completed. " + next, p.Path(), err
	})
}

// scoreRows are the rows of the Evaluate form.
func scoreRows(p procurement.Procurement) ([]views.ScoreRow, []string) {
	var rows []views.ScoreRow
	var fields []string
	for _, sl := range p.Shortlist {
		row := views.ScoreRow{Solution: views.SolutionView{ItemID: sl.ItemID, Name: sl.Name, Supplier: sl.SupplierName}}
		for _, c := range p.Criteria {
			field := procurement.FieldScore(sl.ItemID, c.ID)
			row.Cells = append(row.Cells, views.ScoreCell{Field: field, Label: "Score of " + sl.Name + " for " + c.Name})
			fields = append(fields, field)
		}
		rows = append(rows, row)
	}
	return rows, fields
}

func rankRows(p procurement.Procurement) []views.RankRow {
	var out []views.RankRow
	for _, rk := range procurement.Ranking(p) {
		out = append(out, views.RankRow{Rank: rk.Rank, ItemID: rk.ItemID, Name: rk.Name, Supplier: rk.SupplierName,
			Weighted: rk.Weighted(), Scored: rk.Scored, Criteria: len(p.Criteria)})
	}
	return out
}

// procurementEvaluateForm shows the scores saved and the ranking.
func (s *Server) procurementEvaluateForm(w http.ResponseWriter, r *http.Request) error {
	p, err := s.loadProcurement(r)
	if err != nil {
		return err
	}
	f := views.Form{Values: map[string]string{}}
	for k, v := range p.Scores {
		f.Values[procurement.FieldScore(k.ItemID, k.CriterionID)] = strconv.Itoa(v)
	}
	rows, _ := scoreRows(p)
	s.render(w, r, http.StatusOK, views.ProcurementEvaluate(s.procurementPage(r, p, "Evaluate"), s.procurementView(r, p), f,
		rows, rankRows(p), closedReason(p, procurement.StepEvaluate)))
	return nil
}

// procurementEvaluate saves the scores (action save), or saves them and
// completes Evaluate (action complete).
func (s *Server) procurementEvaluate(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return apperr.New(apperr.Invalid, "The form could not be read")
	}
	u := currentUser(r)
	p, err := s.loadProcurement(r)
	if err != nil {
		return err
	}
	rows, fields := scoreRows(p)
	var in []procurement.ScoreInput
	for _, sl := range p.Shortlist {
		for _, c := range p.Criteria {
			field := procurement.FieldScore(sl.ItemID, c.ID)
			// Only the cells the form had: a missing one is not a blank.
			if _, ok := r.PostForm[field]; ok {
				in = append(in, procurement.ScoreInput{ItemID: sl.ItemID, CriterionID: c.ID, Score: r.PostForm.Get(field)})
			}
		}
	}
	complete := r.PostForm.Get("action") == "complete"
	err = procurement.SaveScores(r.Context(), s.pool, s.now(), &u.ID, u.Scope(), p.ID, version(r), in, complete)
	if f, ok := formOf(err, r.PostForm, fields...); ok {
		v := s.procurementView(r, p)
		v.Version = version(r)
		s.render(w, r, http.StatusBadRequest, views.ProcurementEvaluate(s.procurementPage(r, p, "Evaluate"), v, f,
			rows, rankRows(p), closedReason(p, procurement.StepEvaluate)))
		return nil
	}
	if err != nil {
		return err
	}
	if complete {
		s.flash(r.Context(), "Evaluate is completed. Next, award the contract.")
		return redirect(w, r, p.Path())
	}
	s.flash(r.Context(), "The scores are saved.")
	return redirect(w, r, p.Path()+"/evaluate")
}

var awardFields = []string{procurement.FieldWinner, procurement.FieldCommencement, procurement.FieldInitialPeriod, procurement.FieldMaximumTerm}

// winnerOptions are the shortlisted solutions, best-ranked first, each
// with its weighted score under a Further Competition.
func winnerOptions(p procurement.Procurement) []views.Option {
	var opts []views.Option
	for _, rk := range procurement.Ranking(p) {
		label := rk.Name + " (" + rk.SupplierName + ")"
		if p.Procedure != procurement.DirectAward {
			label += fmt.Sprintf(": ranked %d, weighted score %s", rk.Rank, rk.Weighted())
		}
		opts = append(opts, views.Option{Value: rk.ItemID, Label: label})
	}
	return opts
}

func (s *Server) renderAward(w http.ResponseWriter, r *http.Request, p procurement.Procurement, status int, f views.Form) error {
	v := s.procurementView(r, p)
	if status != http.StatusOK {
		v.Version = version(r)
	}
	var ranking []views.RankRow
	if p.Procedure != procurement.DirectAward {
		ranking = rankRows(p)
	}
	s.render(w, r, status, views.ProcurementAward(s.procurementPage(r, p, "Call-off order form and contract award"), v, f,
		winnerOptions(p), ranking, closedReason(p, procurement.StepAward)))
	return nil
}

// procurementAwardForm offers the winner (the top-ranked, or the one
// shortlisted) and asks for the order's term.
func (s *Server) procurementAwardForm(w http.ResponseWriter, r *http.Request) error {
	p, err := s.loadProcurement(r)
	if err != nil {
		return err
	}
	return s.renderAward(w, r, p, http.StatusOK, views.Form{Values: map[string]string{procurement.FieldWinner: procurement.DefaultWinner(p)}})
}

// procurementAward awards the contract: the order is created, pre-filled,
// and the buyer goes on to it to add its practices.
func (s *Server) procurementAward(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return apperr.New(apperr.Invalid, "The form could not be read")
	}
	u := currentUser(r)
	p, err := s.loadProcurement(r)
	if err != nil {
		return err
	}
	form := r.PostForm
	formErrs := map[string]string{}
	in := procurement.AwardInput{ItemID: form.Get(procurement.FieldWinner)}
	var msg string
	if in.Commencement, msg = dates.Parse("Commencement date", form.Get("commencement-day"), form.Get("commencement-month"), form.Get("commencement-year")); msg != "" {
		formErrs[procurement.FieldCommencement] = msg
	}
	in.InitialPeriod = wholeNumber(form.Get(procurement.FieldInitialPeriod), procurement.FieldInitialPeriod, "Initial period", formErrs)
	in.MaximumTerm = wholeNumber(form.Get(procurement.FieldMaximumTerm), procurement.FieldMaximumTerm, "Maximum term", formErrs)
	var callOff string
	if len(formErrs) > 0 {
		// Check the rest too, so every problem shows at once; nothing is written.
		err = mergeErrors(procurement.CheckAward(r.Context(), s.pool, s.now(), p, in), formErrs, "The contract could not be awarded")
	} else {
		callOff, err = procurement.Award(r.Context(), s.pool, s.now(), &u.ID, u.Scope(), p.ID, version(r), in)
	}
	if f, ok := formOf(err, form, awardFields...); ok {
		return s.renderAward(w, r, p, http.StatusBadRequest, f)
	}
	if err != nil {
		return err
	}
	name := in.ItemID
	if sl, ok := p.Solution(in.ItemID); ok {
		name = sl.Name
	}
	s.flash(r.Context(), "The contract is awarded: order "+callOff+" for "+name+" is created. Add the practices that receive it, then complete it.")
	return redirect(w, r, "/orders/"+callOff)
}

// procurementManagePage is Manage your contract: the order and, once it is
// completed, its services.
func (s *Server) procurementManagePage(w http.ResponseWriter, r *http.Request) error {
	p, err := s.loadProcurement(r)
	if err != nil {
		return err
	}
	var rows []views.LedgerRow
	if p.OrderSigned() {
		revs, err := order.Revisions(r.Context(), s.pool, currentUser(r).Scope(), p.OrderNumber)
		if err != nil {
			return err
		}
		ids := make([]int64, len(revs))
		for i, rv := range revs {
			ids[i] = rv.ID
		}
		services, err := ledger.ForOrders(r.Context(), s.pool, ids)
		if err != nil {
			return err
		}
		for _, si := range services {
			rows = append(rows, ledgerRow(si))
		}
	}
	v := s.procurementView(r, p)
	canComplete := v.CanEdit && p.OrderSigned() && p.CheckChange(procurement.StepManage) == nil
	s.render(w, r, http.StatusOK, views.ProcurementManage(s.procurementPage(r, p, "Manage your contract"), v, rows,
		canComplete, p.State(procurement.StepManage).Status == procurement.Completed))
	return nil
}

// procurementManage completes Manage your contract, once the order is.
func (s *Server) procurementManage(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return apperr.New(apperr.Invalid, "The form could not be read")
	}
	u := currentUser(r)
	p, err := s.loadProcurement(r)
	if err != nil {
		return err
	}
	if err := procurement.CompleteManage(r.Context(), s.pool, s.now(), &u.ID, u.Scope(), p.ID, version(r)); err != nil {
		return err
	}
	s.flash(r.Context(), "Manage your contract is completed: the procurement is finished.")
	return redirect(w, r, p.Path())
}
