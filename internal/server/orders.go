package server

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"ccgtracker/internal/auth"
	"ccgtracker/internal/dates"
	"ccgtracker/internal/ledger"
	"ccgtracker/internal/order"
	"ccgtracker/internal/org"
	"ccgtracker/internal/paging"
	"ccgtracker/web/views"
)

// Who may do what with orders (DOMAIN.md §1): buyers for their own CCG,
// reviewers on any CCG's behalf; finance reads.
var (
	orderReaders = only(auth.Buyer, auth.Reviewer, auth.Finance)
	orderWriters = only(auth.Buyer, auth.Reviewer)
)

var orderCrumbs = []views.Link{{Label: "Dashboard", Href: "/"}, {Label: "Orders", Href: "/orders"}}

// statusTone is what an order's status tag says: under way, in force,
// ended early, or (superseded) no longer in force.
func statusTone(s order.Status) views.Tone {
	switch s {
	case order.InProgress:
		return views.ToneProgress
	case order.Completed:
		return views.ToneGood
	case order.Terminated:
		return views.ToneBad
	}
	return views.ToneNeutral
}

// orderList is the searchable list of orders in the user's scope.
func (s *Server) orderList(w http.ResponseWriter, r *http.Request) error {
	u := currentUser(r)
	q := r.URL.Query()
	f := order.Filter{Query: strings.TrimSpace(q.Get(views.OrderQueryInput)), Status: order.Status(q.Get(views.OrderStatusInput))}
	res, err := order.List(r.Context(), s.pool, u.Scope(), f, paging.Parse(q.Get("page"), pageSize))
	if err != nil {
		return err
	}
	rows := make([]views.OrderRow, len(res.Rows))
	for i, o := range res.Rows {
		rows[i] = views.OrderRow{
			CallOffID: o.CallOffID(), Description: o.Description, CCG: o.CCGName, Supplier: o.SupplierName,
			Status: o.Status.Name(), StatusTone: statusTone(o.Status), Commencement: dates.Long(o.Commencement),
			Items: o.ItemCount, Recipients: o.RecipientCount,
		}
	}
	statuses := []views.Option{{Value: "", Label: "Any status"}}
	for _, st := range []order.Status{order.InProgress, order.Completed, order.Terminated} {
		statuses = append(statuses, views.Option{Value: string(st), Label: st.Name()})
	}
	form := views.Form{Values: map[string]string{views.OrderQueryInput: f.Query, views.OrderStatusInput: string(f.Status)}}
	s.render(w, r, http.StatusOK, views.OrderList(views.OrderListPage{
		Page:      s.page(r, "Call-off orders"),
		Rows:      rows,
		Pager:     pager(res, "/orders", url.Values{views.OrderQueryInput: {f.Query}, views.OrderStatusInput: {string(f.Status)}}),
		Form:      form,
		Statuses:  statuses,
		CanCreate: orderWriters.allows(u),
	}))
	return nil
}

// orderFormOptions are the CCG choices (reviewers only) and the suppliers.
func (s *Server) orderFormOptions(r *http.Request) ([]views.Option, []views.Option, error) {
	u := currentUser(r)
	var ccgs []views.Option
	if u.Role != auth.Buyer {
		var err error
		if ccgs, err = s.ccgOptions(r, "Select a CCG"); err != nil {
			return nil, nil, err
		}
	}
	suppliers, err := org.ListSuppliers(r.Context(), s.pool)
	if err != nil {
		return nil, nil, err
	}
	opts := []views.Option{{Value: "", Label: "Select a supplier"}}
	for _, sp := range suppliers {
		opts = append(opts, views.Option{Value: sp.ID, Label: sp.Name})
	}
	return ccgs, opts, nil
}

// orderNew shows the form that starts an order.
func (s *Server) orderNew(w http.ResponseWriter, r *http.Request) error {
	ccgs, suppliers, err := s.orderFormOptions(r)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, views.OrderDetailsForm(views.OrderDetailsFormPage{
		Page:      s.page(r, "Create an order", orderCrumbs...),
		Action:    "/orders",
		CCGs:      ccgs,
		Suppliers: suppliers,
	}))
	return nil
}

// The details form's inputs, as the view names them.
const (
	inputCCG           = views.OrderCCGInput
	inputSupplier      = views.OrderSupplierInput
	inputDescription   = views.OrderDescriptionInput
	inputCommencement  = views.OrderCommencementInput
	inputInitialPeriod = views.OrderInitialPeriodInput
	inputMaximumTerm   = views.OrderMaximumTermInput
)

// orderFormOf is formAt for the order forms (and the award's, which asks
// for an order's term): a date's problem is shown at its day box.
func orderFormOf(err error, values url.Values, fields ...string) (views.Form, bool) {
	return formAt(err, values, views.OrderInputID, fields...)
}

// parseDetails reads the details form; f keeps what is wrong with the
// numbers and dates the domain never sees.
func parseDetails(f *form, ccg string) order.Details {
	return order.Details{
		CCGCode:       ccg,
		SupplierID:    f.values.Get(inputSupplier),
		Description:   f.values.Get(inputDescription),
		Commencement:  f.date(inputCommencement, order.FieldCommencement, "Commencement date"),
		InitialPeriod: f.whole(inputInitialPeriod, order.FieldInitialPeriod, "Initial period"),
		MaximumTerm:   f.whole(inputMaximumTerm, order.FieldMaximumTerm, "Maximum term"),
	}
}

var detailsOrder = []string{order.FieldCCG, order.FieldSupplier, order.FieldDescription, order.FieldCommencement, order.FieldInitialPeriod, order.FieldMaximumTerm}

// orderCreate starts an order, or shows the form again with what is wrong.
func (s *Server) orderCreate(w http.ResponseWriter, r *http.Request) error {
	u := currentUser(r)
	form := readForm(r)
	ccg := form.values.Get(inputCCG)
	if u.Role == auth.Buyer {
		ccg = u.CCGCode // a buyer orders for their own CCG, whatever the form says
	}
	d := parseDetails(form, ccg)
	var o order.Order
	var err error
	if !form.ok() {
		// Validate the rest too, so every problem shows at once.
		err = form.check(d.Check(s.now()))
	} else {
		o, err = s.orders.Create(r.Context(), u.Actor(), d)
	}
	if f, ok := orderFormOf(err, r.PostForm, detailsOrder...); ok {
		ccgs, suppliers, oerr := s.orderFormOptions(r)
		if oerr != nil {
			return oerr
		}
		s.render(w, r, http.StatusBadRequest, views.OrderDetailsForm(views.OrderDetailsFormPage{
			Page:      s.page(r, "Create an order", orderCrumbs...),
			Form:      f,
			Action:    "/orders",
			CCGs:      ccgs,
			Suppliers: suppliers,
		}))
		return nil
	}
	if err != nil {
		return err
	}
	s.flash(r.Context(), "Order "+o.CallOffID()+" created. Add its catalogue items.")
	return redirect(w, r, "/orders/"+o.CallOffID())
}

// loadOrder reads the order of the URL in the user's scope.
func (s *Server) loadOrder(r *http.Request) (order.Order, error) {
	return order.Get(r.Context(), s.pool, currentUser(r).Scope(), chi.URLParam(r, "callOffID"))
}

// orderView fills the order page's view model.
func (s *Server) orderView(r *http.Request, o order.Order) (views.OrderView, error) {
	u := currentUser(r)
	v := views.OrderView{
		CallOffID: o.CallOffID(), Status: o.Status.Name(), StatusTone: statusTone(o.Status), CCGCode: o.CCGCode, CCGName: o.CCGName,
		SupplierID: o.SupplierID, SupplierName: o.SupplierName, Description: o.Description,
		Commencement: dates.Long(o.Commencement), EndDate: dates.Long(o.EndDate()),
		InitialPeriod: o.InitialPeriod, MaximumTerm: o.MaximumTerm, Version: o.Version,
		Editable: o.Editable(), IsAmendment: o.IsAmendment(), CanEdit: orderWriters.allows(u),
		CompletedBy: o.CompletedBy, TerminationReason: o.TerminationReason, TerminationDate: dates.LongPtr(o.TerminationDate),
		CreatedBy: o.CreatedBy,
	}
	if o.CompletedAt != nil {
		v.CompletedAt = o.CompletedAt.In(dates.London).Format("2 January 2006 15:04")
	}
	v.CanAmend = v.CanEdit && o.Status == order.Completed
	v.CanTerminate = v.CanEdit && o.Status == order.Completed
	lines, total := order.OrderCost(o)
	v.Total = costView(total)
	for i, it := range o.Items {
		v.Items = append(v.Items, itemView(o, it, lines[i]))
	}
	if o.Editable() {
		v.Problems = order.Problems(o)
	}
	revs, err := order.Revisions(r.Context(), s.pool, u.Scope(), o.Number)
	if err != nil {
		return v, err
	}
	// The services of the order in force include those its earlier
	// revisions created.
	var ids []int64
	for _, rv := range revs {
		added := fmt.Sprintf("%d %s", rv.RecipientsAdded, plural(rv.RecipientsAdded, "practice"))
		if len(rv.ItemsAdded) > 0 {
			added = strings.Join(rv.ItemsAdded, ", ") + "; " + added
		}
		at := ""
		if rv.CompletedAt != nil {
			at = rv.CompletedAt.In(dates.London).Format("2 January 2006") + " by " + rv.CompletedBy
		}
		v.Revisions = append(v.Revisions, views.RevisionView{CallOffID: rv.CallOffID, Status: rv.Status.Name(), CompletedAt: at, Added: added, Current: rv.CallOffID == o.CallOffID()})
		if rv.Revision <= o.Revision {
			ids = append(ids, rv.ID)
		}
	}
	if !o.Editable() {
		services, err := ledger.ForOrders(r.Context(), s.pool, ids)
		if err != nil {
			return v, err
		}
		for _, si := range services {
			v.Services = append(v.Services, ledgerRow(si))
		}
	}
	return v, nil
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

func costView(c order.Cost) views.CostView {
	return views.CostView{OneOff: c.OneOff.String(), Monthly: c.Monthly.String(), Annual: c.Annual.String(), Total: c.Total.String()}
}

func itemView(o order.Order, it order.Item, c order.Cost) views.OrderItemView {
	v := views.OrderItemView{
		ID: it.ID, CatalogueItemID: it.CatalogueItemID, Name: it.Name, Kind: org.KindName(it.Kind),
		Price: it.UnitPrice.String(), Per: it.Per(), Funding: it.FundingType, Cost: costView(c),
		AddedEarlier: it.AddedInRevision < o.Revision,
	}
	for _, rc := range it.Recipients {
		if rc.PlannedDelivery == nil {
			v.Datesmissing++
		}
		v.Recipients = append(v.Recipients, views.RecipientView{
			PracticeCode: rc.PracticeCode, PracticeName: rc.PracticeName, Quantity: views.Number(rc.Quantity),
			PlannedDelivery: dates.LongPtr(rc.PlannedDelivery), AddedEarlier: rc.AddedInRevision < o.Revision,
		})
	}
	return v
}

func (s *Server) orderPage(r *http.Request, o order.Order, title string) views.Page {
	return s.page(r, title, append(append([]views.Link{}, orderCrumbs...), views.Link{Label: o.CallOffID(), Href: "/orders/" + o.CallOffID()})...)
}

// orderShow is an order's page.
func (s *Server) orderShow(w http.ResponseWriter, r *http.Request) error {
	o, err := s.loadOrder(r)
	if err != nil {
		return err
	}
	return s.renderOrder(w, r, o, http.StatusOK, views.Form{})
}

func (s *Server) renderOrder(w http.ResponseWriter, r *http.Request, o order.Order, status int, f views.Form) error {
	v, err := s.orderView(r, o)
	if err != nil {
		return err
	}
	s.render(w, r, status, views.OrderPage(views.OrderShowPage{
		Page:  s.page(r, "Order "+o.CallOffID(), orderCrumbs...),
		Order: v,
		Form:  f,
	}))
	return nil
}

// version reads the version the person saw from the form.
func version(r *http.Request) int {
	v, _ := strconv.Atoi(r.PostForm.Get("version"))
	return v
}

// orderDetailsEdit shows the details form of an order in progress.
func (s *Server) orderDetailsEdit(w http.ResponseWriter, r *http.Request) error {
	o, err := s.loadOrder(r)
	if err != nil {
		return err
	}
	if !o.Editable() {
		return order.ErrNotEditable(o)
	}
	_, suppliers, err := s.orderFormOptions(r)
	if err != nil {
		return err
	}
	f := views.Form{Values: map[string]string{
		inputSupplier: o.SupplierID, inputDescription: o.Description,
		inputCommencement + "-day": strconv.Itoa(o.Commencement.Day()), inputCommencement + "-month": strconv.Itoa(int(o.Commencement.Month())),
		inputCommencement + "-year": strconv.Itoa(o.Commencement.Year()),
		inputInitialPeriod:          strconv.Itoa(o.InitialPeriod), inputMaximumTerm: strconv.Itoa(o.MaximumTerm),
	}}
	s.render(w, r, http.StatusOK, views.OrderDetailsForm(views.OrderDetailsFormPage{
		Page:           s.orderPage(r, o, "Order details"),
		Form:           f,
		Action:         "/orders/" + o.CallOffID() + "/details",
		Version:        o.Version,
		Suppliers:      suppliers,
		SupplierLocked: len(o.Items) > 0,
	}))
	return nil
}

// orderDetailsUpdate saves the details of an order in progress.
func (s *Server) orderDetailsUpdate(w http.ResponseWriter, r *http.Request) error {
	u := currentUser(r)
	o, err := s.loadOrder(r)
	if err != nil {
		return err
	}
	form := readForm(r)
	d := parseDetails(form, o.CCGCode)
	if form.ok() {
		err = s.orders.UpdateDetails(r.Context(), u.Actor(), o.CallOffID(), version(r), d)
	} else {
		err = form.check(nil)
	}
	if f, ok := orderFormOf(err, r.PostForm, detailsOrder...); ok {
		_, suppliers, oerr := s.orderFormOptions(r)
		if oerr != nil {
			return oerr
		}
		s.render(w, r, http.StatusBadRequest, views.OrderDetailsForm(views.OrderDetailsFormPage{
			Page:           s.orderPage(r, o, "Order details"),
			Form:           f,
			Action:         "/orders/" + o.CallOffID() + "/details",
			Version:        version(r),
			Suppliers:      suppliers,
			SupplierLocked: len(o.Items) > 0,
		}))
		return nil
	}
	if err != nil {
		return err
	}
	s.flash(r.Context(), "The order details are saved.")
	return redirect(w, r, "/orders/"+o.CallOffID())
}
