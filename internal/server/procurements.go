package server

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/go-chi/chi/v5"

	"ccgtracker/internal/apperr"
	"ccgtracker/internal/auth"
	"ccgtracker/internal/dates"
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

// procurementPath is the procurement's page.
func procurementPath(p procurement.Procurement) string {
	return "/procurements/" + strconv.FormatInt(p.ID, 10)
}

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
	s.render(w, r, http.StatusOK, views.ProcurementList(views.ProcurementListPage{
		Page:      s.page(r, "Procurements", views.Link{Label: "Dashboard", Href: "/"}),
		Rows:      rows,
		Pager:     pager(res, "/procurements", url.Values{}),
		CanCreate: procurementWriters.allows(u),
	}))
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

// procurementNew asks for the name (and a reviewer for the CCG).
func (s *Server) procurementNew(w http.ResponseWriter, r *http.Request) error {
	return s.renderProcurementNew(w, r, http.StatusOK, views.Form{})
}

func (s *Server) renderProcurementNew(w http.ResponseWriter, r *http.Request, status int, f views.Form) error {
	ccgs, err := s.procurementCCGOptions(r)
	if err != nil {
		return err
	}
	s.render(w, r, status, views.ProcurementNew(views.ProcurementNewPage{
		Page: s.page(r, "Start a procurement", procurementCrumbs...),
		Form: f,
		CCGs: ccgs,
	}))
	return nil
}

// procurementCreate starts a procurement.
func (s *Server) procurementCreate(w http.ResponseWriter, r *http.Request) error {
	u := currentUser(r)
	form := readForm(r)
	ccg := form.values.Get(views.ProcurementCCGInput)
	if u.Role == auth.Buyer {
		ccg = u.CCGCode // a buyer procures for their own CCG, whatever the form says
	}
	p, err := s.procurements.Create(r.Context(), u.Actor(), ccg, form.values.Get(views.ProcurementNameInput))
	if f, ok := formOf(err, r.PostForm, procurement.FieldCCG, procurement.FieldName); ok {
		return s.renderProcurementNew(w, r, http.StatusBadRequest, f)
	}
	if err != nil {
		return err
	}
	s.flash(r.Context(), "Procurement started. Begin with Prepare.")
	return redirect(w, r, procurementPath(p))
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

// atTimeStamp is how the task list says when a step was completed.
const atTimeStamp = "2 January 2006 at 15:04"

// The task list's tones, as the design system's task list uses them: a
// finished step reads as plain text (one that cannot start yet, muted),
// one to do is blue, one begun aqua green.
const (
	toneDone    = views.ToneDone
	toneToDo    = views.ToneProgress
	toneStarted = views.ToneStarted
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
		ID: p.ID, Path: procurementPath(p), Name: p.Name, CCGCode: p.CCGCode, CCGName: p.CCGName, Procedure: p.Procedure.Name(),
		Version: p.Version, CanEdit: procurementWriters.allows(currentUser(r)),
		CallOffID: p.CallOffID, LatestCallOffID: p.LatestCallOffID, OrderStatus: p.LatestOrderStatus.Name(), OrderSigned: p.OrderSigned(),
		Awarded: p.State(procurement.StepAward).Status == procurement.Completed,
	}
	if w, ok := p.Solution(p.WinnerID); ok {
		v.Winner = w.Name + " (" + w.SupplierName + ")"
	}
	for _, st := range p.Steps {
		t := views.TaskView{Key: string(st.Step), Name: st.Step.Name(), Href: procurementPath(p) + stepPaths[st.Step]}
		switch {
		case st.Status == procurement.Completed:
			t.Status, t.Tone = "Completed", toneDone
			if st.CompletedAt != nil {
				t.Hint = "Completed by " + st.CompletedBy + " on " + st.CompletedAt.In(dates.London).Format(atTimeStamp)
			}
		case st.Status == procurement.Skipped:
			t.Status, t.Tone, t.Href = "Skipped", toneDone, ""
			t.Hint = "A Direct Award skips this step"
		case !p.CanStart(st.Step):
			t.Status, t.Tone, t.Muted, t.Href = "Cannot start yet", toneDone, true, ""
			t.Hint = "Complete " + p.Needs(st.Step).Name() + " first"
		case started(p, st.Step):
			t.Status, t.Tone = "In progress", toneStarted
		default:
			t.Status, t.Tone = "Not started", toneToDo
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
	return s.page(r, title, append(append([]views.Link{}, procurementCrumbs...), views.Link{Label: p.Name, Href: procurementPath(p)})...)
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
	s.render(w, r, http.StatusOK, views.ProcurementPage(views.ProcurementShowPage{
		Page:        s.page(r, p.Name, procurementCrumbs...),
		Procurement: s.procurementView(r, p),
	}))
	return nil
}

// The Prepare form's fields, in the order the error summary lists them.
