package server

import (
	"fmt"
	"net/http"

	"ccgtracker/internal/ledger"
	"ccgtracker/internal/order"
	"ccgtracker/internal/procurement"
	"ccgtracker/web/views"
)

// The award, which makes the call-off order, and Manage your contract.

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
	s.render(w, r, status, views.ProcurementAward(views.ProcurementAwardPage{
		Page:        s.procurementPage(r, p, "Call-off order form and contract award"),
		Procurement: v,
		Form:        f,
		Winners:     winnerOptions(p),
		Ranking:     ranking,
		Closed:      closedReason(p, procurement.StepAward),
	}))
	return nil
}

// procurementAwardForm offers the winner (the top-ranked, or the one
// shortlisted) and asks for the order's term.
func (s *Server) procurementAwardForm(w http.ResponseWriter, r *http.Request) error {
	p, err := s.loadProcurement(r)
	if err != nil {
		return err
	}
	return s.renderAward(w, r, p, http.StatusOK, views.Form{Values: map[string]string{views.ProcurementWinnerInput: procurement.DefaultWinner(p)}})
}

// parseAwardForm reads the winner and the order's term; the term's inputs
// are those of the order details form.
func parseAwardForm(f *form) procurement.AwardInput {
	return procurement.AwardInput{
		ItemID:        f.values.Get(views.ProcurementWinnerInput),
		Commencement:  f.date(inputCommencement, procurement.FieldCommencement, "Commencement date"),
		InitialPeriod: f.whole(inputInitialPeriod, procurement.FieldInitialPeriod, "Initial period"),
		MaximumTerm:   f.whole(inputMaximumTerm, procurement.FieldMaximumTerm, "Maximum term"),
	}
}

// procurementAward awards the contract: the order is created, pre-filled,
// and the buyer goes on to it to add its practices.
func (s *Server) procurementAward(w http.ResponseWriter, r *http.Request) error {
	u := currentUser(r)
	p, err := s.loadProcurement(r)
	if err != nil {
		return err
	}
	form := readForm(r)
	in := parseAwardForm(form)
	var awarded procurement.Awarded
	if form.ok() {
		awarded, err = s.procurements.Award(r.Context(), u.Actor(), p.ID, version(r), in)
	} else {
		// Check the rest too, so every problem shows at once; nothing is written.
		err = form.check(procurement.CheckAward(r.Context(), s.pool, s.now(), p, in))
	}
	if f, ok := orderFormOf(err, r.PostForm, awardFields...); ok {
		return s.renderAward(w, r, p, http.StatusBadRequest, f)
	}
	if err != nil {
		return err
	}
	s.flash(r.Context(), "The contract is awarded: order "+awarded.CallOffID+" for "+awarded.Winner.Name+" is created. Add the practices that receive it, then complete it.")
	return redirect(w, r, "/orders/"+awarded.CallOffID)
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
	s.render(w, r, http.StatusOK, views.ProcurementManage(views.ProcurementManagePage{
		Page:        s.procurementPage(r, p, "Manage your contract"),
		Procurement: v,
		Services:    rows,
		CanComplete: canComplete,
		Completed:   p.State(procurement.StepManage).Status == procurement.Completed,
	}))
	return nil
}

// procurementManage completes Manage your contract, once the order is.
func (s *Server) procurementManage(w http.ResponseWriter, r *http.Request) error {
	u := currentUser(r)
	p, err := s.loadProcurement(r)
	if err != nil {
		return err
	}
	if err := s.procurements.CompleteManage(r.Context(), u.Actor(), p.ID, version(r)); err != nil {
		return err
	}
	s.flash(r.Context(), "Manage your contract is completed: the procurement is finished.")
	return redirect(w, r, procurementPath(p))
}
