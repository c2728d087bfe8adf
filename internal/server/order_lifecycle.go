package server

import (
	"bytes"
	"net/http"
	"time"

	"ccgtracker/internal/apperr"
	"ccgtracker/internal/dates"
	"ccgtracker/internal/order"
	"ccgtracker/web/views"
)

// orderComplete signs the order; a refusal (incomplete, or changed by
// someone else) shows the order as it is now with the reason.
func (s *Server) orderComplete(w http.ResponseWriter, r *http.Request) error {
	u := currentUser(r)
	o, err := s.loadOrder(r)
	if err != nil {
		return err
	}
	err = s.orders.Complete(r.Context(), u.Actor(), o.CallOffID(), version(r))
	if code := apperr.CodeOf(err); code == apperr.Invalid || code == apperr.Conflict {
		return s.renderOrder(w, r, o, refusedStatus(err), views.Form{Errors: []views.FieldError{{Field: "maincontent", Message: apperr.MessageOf(err)}}})
	}
	if err != nil {
		return err
	}
	s.flash(r.Context(), "Order "+o.CallOffID()+" is completed. Its services are planned.")
	return redirect(w, r, "/orders/"+o.CallOffID())
}

// orderAmend starts the next revision and opens it.
func (s *Server) orderAmend(w http.ResponseWriter, r *http.Request) error {
	u := currentUser(r)
	o, err := s.loadOrder(r)
	if err != nil {
		return err
	}
	next, err := s.orders.Amend(r.Context(), u.Actor(), o.CallOffID(), version(r))
	if apperr.Is(err, apperr.Conflict) {
		return s.renderOrder(w, r, o, http.StatusConflict, views.Form{Errors: []views.FieldError{{Field: "maincontent", Message: apperr.MessageOf(err)}}})
	}
	if err != nil {
		return err
	}
	s.flash(r.Context(), "Amendment "+next+" started. Add practices or Additional Services, then complete it.")
	return redirect(w, r, "/orders/"+next)
}

// orderTerminateForm asks for the reason and date.
func (s *Server) orderTerminateForm(w http.ResponseWriter, r *http.Request) error {
	o, err := s.loadOrder(r)
	if err != nil {
		return err
	}
	return s.renderTerminate(w, r, o, http.StatusOK, views.Form{})
}

func (s *Server) renderTerminate(w http.ResponseWriter, r *http.Request, o order.Order, status int, f views.Form) error {
	if o.Status != order.Completed {
		return apperr.New(apperr.Conflict, "Only the order in force can be terminated.")
	}
	v, err := s.orderView(r, o)
	if err != nil {
		return err
	}
	s.render(w, r, status, views.OrderTerminate(views.OrderTerminatePage{
		Page:  s.orderPage(r, o, "Terminate the order"),
		Order: v,
		Form:  f,
	}))
	return nil
}

// terminationForm is what the termination form says: why, and from when.
type terminationForm struct {
	Reason string
	Date   time.Time
}

// The termination form's inputs: the reason, and the date.
const (
	inputReason          = views.OrderReasonInput
	inputTerminationDate = views.OrderTerminationInput
)

func parseTerminationForm(f *form) terminationForm {
	return terminationForm{
		Reason: f.values.Get(inputReason),
		Date:   f.date(inputTerminationDate, order.FieldTerminationDate, "Termination date"),
	}
}

// orderTerminate ends the order on a future date.
func (s *Server) orderTerminate(w http.ResponseWriter, r *http.Request) error {
	u := currentUser(r)
	o, err := s.loadOrder(r)
	if err != nil {
		return err
	}
	f := readForm(r)
	t := parseTerminationForm(f)
	if f.ok() {
		err = s.orders.Terminate(r.Context(), u.Actor(), o.CallOffID(), version(r), t.Reason, t.Date)
	} else {
		// The reason is checked too, so every problem shows at once.
		err = f.check(order.CheckTermination(t.Reason, time.Time{}, s.now()))
	}
	if form, ok := orderFormOf(err, r.PostForm, order.FieldReason, order.FieldTerminationDate); ok {
		return s.renderTerminate(w, r, o, http.StatusBadRequest, form)
	}
	if err != nil {
		return err
	}
	s.flash(r.Context(), "Order "+o.CallOffID()+" is terminated from "+dates.Long(t.Date)+".")
	return redirect(w, r, "/orders/"+o.CallOffID())
}

// orderSummary is the printable summary.
func (s *Server) orderSummary(w http.ResponseWriter, r *http.Request) error {
	o, err := s.loadOrder(r)
	if err != nil {
		return err
	}
	v, err := s.orderView(r, o)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, views.OrderSummary(views.OrderSummaryPage{
		Page:  s.orderPage(r, o, "Order "+o.CallOffID()+" summary"),
		Order: v,
	}))
	return nil
}

// orderExport sends the order as a CSV in the finance layout, under a
// file name the server chooses.
func (s *Server) orderExport(w http.ResponseWriter, r *http.Request) error {
	o, err := s.loadOrder(r)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := order.WriteCSV(&buf, o); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="order-`+o.CallOffID()+`.csv"`)
	w.Header().Set("Cache-Control", "no-store")
	_, err = w.Write(buf.Bytes())
	return err
}
