package server

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"ccgtracker/internal/dates"
	"ccgtracker/internal/ledger"
	"ccgtracker/internal/tracker"
	"ccgtracker/web/views"
)

// The proposed changes an ODS import makes to a CCG's open return
// (issue 13): shown on the return's page, decided on their own page.

// returnProposals is the return page's list of proposals.
func (s *Server) returnProposals(r *http.Request, ret tracker.Return, canEdit bool) (views.ProposalsView, error) {
	list, err := tracker.ProposalsFor(r.Context(), s.pool, ret)
	if err != nil {
		return views.ProposalsView{}, err
	}
	v := views.ProposalsView{CanEdit: canEdit}
	for _, p := range list {
		v.Cards = append(v.Cards, views.ProposalCard{ID: p.ID, Words: p.Words(), Note: p.IsNote(),
			Made: dates.Long(dates.Today(p.MadeAt)), Outcome: proposalOutcome(p), Href: proposalHref(ret, p.ID)})
	}
	return v, nil
}

func proposalHref(ret tracker.Return, id int64) string {
	return returnHref(ret) + "/proposals/" + strconv.FormatInt(id, 10)
}

// proposalOutcome is what became of a proposal, in words.
func proposalOutcome(p tracker.Proposal) string {
	if p.DecidedAt == nil {
		return ""
	}
	by := p.DecidedBy
	if by == "" {
		by = "the system"
	}
	on := dates.Long(dates.Today(*p.DecidedAt))
	if p.Outcome == tracker.OutcomeDismissed {
		return "Dismissed by " + by + " on " + on + ": " + p.Reason
	}
	return "Reported as a " + strings.ToLower(p.OutcomeKind.Name()) + " by " + by + " on " + on
}

// loadProposal reads the return and its CCG's proposal the URL names:
// another CCG's (by the return or the proposal) is not found.
func (s *Server) loadProposal(r *http.Request) (tracker.Return, tracker.Proposal, error) {
	ret, err := s.loadReturn(r)
	if err != nil {
		return ret, tracker.Proposal{}, err
	}
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil {
		return ret, tracker.Proposal{}, errNotFound
	}
	p, err := tracker.GetProposal(r.Context(), s.pool, ret, id)
	return ret, p, err
}

// proposalShow is the page that decides a proposal.
func (s *Server) proposalShow(w http.ResponseWriter, r *http.Request) error {
	ret, p, err := s.loadProposal(r)
	if err != nil {
		return err
	}
	return s.renderProposal(w, r, ret, p, http.StatusOK, dateFilledIn(p), views.Form{})
}

// dateFilledIn is the confirmation form with the proposal's date in it.
func dateFilledIn(p tracker.Proposal) views.Form {
	return views.Form{Values: dateValues(views.ProposalDateInput, p.EffectiveDate)}
}

// proposalInputs are the inputs of the proposal's forms that the domain's
// fields (by meaning) are shown beside.
var proposalInputs = inputs{
	tracker.ProposalFieldKind:   views.ProposalKindInput,
	tracker.ProposalFieldTarget: views.ProposalTargetInput,
	tracker.ProposalFieldDate:   views.DateInputID(views.ProposalDateInput),
	tracker.ProposalFieldReason: views.ProposalReasonInput,
}

// proposalRefused is the proposal's form shown again with the problems
// of err, in the order of fields, each beside its input; ok is false when
// err is not about the input.
func proposalRefused(err error, f *form, fields ...string) (views.Form, bool) {
	return formAt(f.check(err), f.values, proposalInputs.of, fields...)
}

// parseProposalAnswer reads the form reporting a proposal on the return.
func parseProposalAnswer(f *form) tracker.ProposalAnswer {
	return tracker.ProposalAnswer{
		Kind:   tracker.Kind(f.text(views.ProposalKindInput)),
		Target: f.values.Get(views.ProposalTargetInput),
		Date:   f.date(views.ProposalDateInput, tracker.ProposalFieldDate, "Date of the change"),
	}
}

// renderProposal shows the page of an open proposal to the return's buyer;
// a decided one, a note, or anyone else goes back to the return, where it
// is shown with its outcome.
func (s *Server) renderProposal(w http.ResponseWriter, r *http.Request, ret tracker.Return, p tracker.Proposal, status int, confirm, dismiss views.Form) error {
	if p.Outcome != "" || p.IsNote() || !ret.Editable || !s.canEditReturn(r, ret) {
		return redirect(w, r, returnHref(ret)+"#proposals")
	}
	v := views.ProposalView{ReturnHref: returnHref(ret), ReturnName: "Return for " + ret.Period.Name(), Action: proposalHref(ret, p.ID),
		Version: ret.Version, Words: p.Words(), Practice: p.PracticeName + " (" + p.PracticeCode + ")"}
	for _, k := range p.Kinds() {
		hint := "Its services end on the date: live ones cease, planned ones are cancelled."
		if k == tracker.Merger {
			v.Merger = true
			hint = "It closed and merged into another practice of the CCG: every service of it ends on the date."
		}
		v.Kinds = append(v.Kinds, views.KindOption{Value: string(k), Label: k.Name(), Hint: hint})
	}
	if len(v.Kinds) == 1 && confirm.Value(views.ProposalKindInput) == "" {
		confirm.Values[views.ProposalKindInput] = string(v.Kinds[0].Value)
	}
	services, err := ledger.PracticeServices(r.Context(), s.pool, currentUser(r).Scope(), ret.CCGCode, p.PracticeCode)
	if err != nil {
		return err
	}
	for _, si := range services {
		if si.State == ledger.Planned || si.State == ledger.Active {
			v.Services = append(v.Services, si.Ref()+" "+si.ItemName+" ("+string(si.State)+")")
		}
	}
	v.Page = s.returnPage(r, ret, "Report a change ODS shows", views.Link{Label: "Return for " + ret.Period.Name(), Href: returnHref(ret)})
	v.Confirm, v.Dismiss = confirm, dismiss
	s.render(w, r, status, views.ProposalPage(v))
	return nil
}

// canEditReturn: only the return's CCG's buyers change it (the route
// admits reviewers and others to read).
func (s *Server) canEditReturn(r *http.Request, ret tracker.Return) bool {
	u := currentUser(r)
	return u != nil && u.Scope().Allows(ret.CCGCode) && u.CCGCode == ret.CCGCode
}

// proposalConfirm turns a proposal into lines of the return.
func (s *Server) proposalConfirm(w http.ResponseWriter, r *http.Request) error {
	u := currentUser(r)
	ret, p, err := s.loadProposal(r)
	if err != nil {
		return err
	}
	// A date that is not a date is the form's word, with whatever else
	// the domain found (it saved nothing: no date, no lines).
	f := readForm(r)
	n, err := s.tracker.ConfirmProposal(r.Context(), u.Actor(), ret.CCGCode, ret.Period, version(r), p.ID, parseProposalAnswer(f))
	if form, ok := proposalRefused(err, f, tracker.ProposalFieldKind, tracker.ProposalFieldTarget, tracker.ProposalFieldDate); ok {
		return s.renderProposal(w, r, ret, p, http.StatusUnprocessableEntity, form, views.Form{})
	}
	if err != nil {
		return err
	}
	s.flash(r.Context(), strconv.Itoa(n)+" "+plural(n, "change")+" at "+p.PracticeCode+" added to the return.")
	return redirect(w, r, returnHref(ret))
}

// proposalDismiss records that the proposal will not be reported, and why.
func (s *Server) proposalDismiss(w http.ResponseWriter, r *http.Request) error {
	u := currentUser(r)
	ret, p, err := s.loadProposal(r)
	if err != nil {
		return err
	}
	f := readForm(r)
	err = s.tracker.DismissProposal(r.Context(), u.Actor(), ret.CCGCode, ret.Period, version(r), p.ID, f.values.Get(views.ProposalReasonInput))
	if form, ok := proposalRefused(err, f, tracker.ProposalFieldReason); ok {
		return s.renderProposal(w, r, ret, p, http.StatusUnprocessableEntity, dateFilledIn(p), form)
	}
	if err != nil {
		return err
	}
	s.flash(r.Context(), "The change ODS shows at "+p.PracticeCode+" was dismissed.")
	return redirect(w, r, returnHref(ret)+"#proposals")
}
