package server

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"ccgtracker/internal/apperr"
	"ccgtracker/internal/order"
	"ccgtracker/internal/org"
	"ccgtracker/web/views"
)

// orderItemNew lists what can be added to an order in progress.
func (s *Server) orderItemNew(w http.ResponseWriter, r *http.Request) error {
	o, err := s.loadOrder(r)
	if err != nil {
		return err
	}
	return s.renderItemNew(w, r, o, http.StatusOK, views.Form{})
}

func (s *Server) renderItemNew(w http.ResponseWriter, r *http.Request, o order.Order, status int, f views.Form) error {
	if !o.Editable() {
		return order.ErrNotEditable(o)
	}
	items, err := order.Orderables(r.Context(), s.pool, o)
	if err != nil {
		return err
	}
	rows := make([]views.OrderableRow, len(items))
	for i, it := range items {
		rows[i] = views.OrderableRow{ID: it.ID, Name: it.Name, Kind: org.KindName(it.Kind), Price: it.Price.Price.String(), Per: it.Price.Per()}
	}
	v, err := s.orderView(r, o)
	if err != nil {
		return err
	}
	s.render(w, r, status, views.OrderItemNew(views.OrderItemNewPage{
		Page:  s.orderPage(r, o, "Add a catalogue item"),
		Order: v,
		Form:  f,
		Items: rows,
	}))
	return nil
}

// orderItemAdd adds the chosen item, snapshotting its price.
func (s *Server) orderItemAdd(w http.ResponseWriter, r *http.Request) error {
	u := currentUser(r)
	o, err := s.loadOrder(r)
	if err != nil {
		return err
	}
	item := readForm(r).text(views.OrderItemInput)
	added, err := s.orders.AddItem(r.Context(), u.Actor(), o.CallOffID(), version(r), item)
	if f, ok := formOf(err, r.PostForm, order.FieldItem); ok {
		return s.renderItemNew(w, r, o, http.StatusBadRequest, f)
	}
	if err != nil {
		return err
	}
	s.flash(r.Context(), added.Name+" added. Choose how it is funded and which practices receive it.")
	return redirect(w, r, itemPath(o, added))
}

func itemPath(o order.Order, it order.Item) string {
	return "/orders/" + o.CallOffID() + "/items/" + strconv.FormatInt(it.ID, 10)
}

// loadItem reads the order and the item of the URL.
func (s *Server) loadItem(r *http.Request) (order.Order, order.Item, error) {
	o, err := s.loadOrder(r)
	if err != nil {
		return o, order.Item{}, err
	}
	id, err := strconv.ParseInt(chi.URLParam(r, "itemID"), 10, 64)
	if err != nil {
		return o, order.Item{}, errNotFound
	}
	for _, it := range o.Items {
		if it.ID == id {
			return o, it, nil
		}
	}
	return o, order.Item{}, errNotFound
}

// orderItemShow is an item's page: its funding and its practices.
func (s *Server) orderItemShow(w http.ResponseWriter, r *http.Request) error {
	o, it, err := s.loadItem(r)
	if err != nil {
		return err
	}
	f := views.Form{Values: map[string]string{}}
	if it.FundingTypeID != nil {
		f.Values[views.OrderFundingInput] = strconv.Itoa(*it.FundingTypeID)
	}
	return s.renderItem(w, r, o, it, http.StatusOK, f, nil, nil)
}

// renderItem shows the item page; picked overrides which practices are
// ticked (a refused choice comes back as the person made it).
func (s *Server) renderItem(w http.ResponseWriter, r *http.Request, o order.Order, it order.Item, status int, f views.Form, picked map[string]bool, uploadProblems []string) error {
	if !o.Editable() {
		return order.ErrNotEditable(o)
	}
	fundingTypes, err := order.FundingTypes(r.Context(), s.pool)
	if err != nil {
		return err
	}
	funding := []views.Option{{Value: "", Label: "Select a funding type"}}
	for _, ft := range fundingTypes {
		funding = append(funding, views.Option{Value: strconv.Itoa(ft.ID), Label: ft.Name})
	}
	practices, err := org.PracticesOf(r.Context(), s.pool, currentUser(r).Scope(), o.CCGCode)
	if err != nil {
		return err
	}
	state := map[string]int{} // 1 picked in this revision, 2 ordered earlier
	for _, rc := range it.Recipients {
		state[rc.PracticeCode] = 1
		if rc.AddedInRevision < o.Revision {
			state[rc.PracticeCode] = 2
		}
	}
	var choices []views.PracticeChoice
	for _, p := range practices {
		if p.Status != "A" && state[p.Code] == 0 {
			continue // a closed practice cannot receive a new service
		}
		selected := state[p.Code] == 1
		if picked != nil {
			selected = picked[p.Code]
		}
		listSize := "Not known"
		if p.ListSize != nil {
			listSize = views.Number(*p.ListSize)
		}
		choices = append(choices, views.PracticeChoice{Code: p.Code, Name: p.Name, Postcode: p.Postcode, ListSize: listSize,
			Selected: selected, AddedEarlier: state[p.Code] == 2})
	}
	v, iv, err := s.orderItemViews(r, o, it)
	if err != nil {
		return err
	}
	problems := make([]views.UploadProblem, len(uploadProblems))
	for i, msg := range uploadProblems {
		problems[i] = views.UploadProblem{Message: msg}
	}
	s.render(w, r, status, views.OrderItemPage(views.OrderItemShowPage{
		Page:           s.orderPage(r, o, it.Name),
		Order:          v,
		Item:           iv,
		Form:           f,
		Funding:        funding,
		Practices:      choices,
		UploadProblems: problems,
	}))
	return nil
}

// parseFundingForm reads the funding type chosen for it.
func parseFundingForm(f *form, it order.Item) int {
	funding, err := strconv.Atoi(f.text(views.OrderFundingInput))
	if err != nil {
		f.problem(order.FieldFunding, "Select how "+it.Name+" is funded")
	}
	return funding
}

// orderItemFunding saves how an item is funded.
func (s *Server) orderItemFunding(w http.ResponseWriter, r *http.Request) error {
	u := currentUser(r)
	o, it, err := s.loadItem(r)
	if err != nil {
		return err
	}
	form := readForm(r)
	funding := parseFundingForm(form, it)
	if form.ok() {
		err = s.orders.SetFunding(r.Context(), u.Actor(), o.CallOffID(), version(r), it.ID, funding)
	} else {
		err = form.check(nil)
	}
	if f, ok := formOf(err, r.PostForm, order.FieldFunding); ok {
		return s.renderItem(w, r, o, it, http.StatusBadRequest, f, nil, nil)
	}
	if err != nil {
		return err
	}
	s.flash(r.Context(), "Funding saved for "+it.Name+".")
	return redirect(w, r, itemPath(o, it))
}

// keptRecipients is what this revision already has for the item, so that
// picking more practices keeps the quantities and dates entered before.
func keptRecipients(o order.Order, it order.Item) map[string]order.RecipientInput {
	kept := map[string]order.RecipientInput{}
	for _, rc := range it.Recipients {
		if rc.AddedInRevision == o.Revision {
			q := rc.Quantity
			kept[rc.PracticeCode] = order.RecipientInput{Practice: rc.PracticeCode, Quantity: &q, PlannedDelivery: rc.PlannedDelivery}
		}
	}
	return kept
}

// orderItemPractices saves the practices ticked (or every practice), then
// goes on to their quantities and dates.
func (s *Server) orderItemPractices(w http.ResponseWriter, r *http.Request) error {
	u := currentUser(r)
	o, it, err := s.loadItem(r)
	if err != nil {
		return err
	}
	form := readForm(r)
	codes := form.values[inputPractice]
	if form.text(inputAction) == actionAll {
		all, err := org.PracticesOf(r.Context(), s.pool, u.Scope(), o.CCGCode)
		if err != nil {
			return err
		}
		earlier := map[string]bool{}
		for _, rc := range it.Recipients {
			earlier[rc.PracticeCode] = rc.AddedInRevision < o.Revision
		}
		codes = nil
		for _, p := range all {
			if p.Status == "A" && !earlier[p.Code] {
				codes = append(codes, p.Code)
			}
		}
	}
	kept := keptRecipients(o, it)
	inputs := make([]order.RecipientInput, 0, len(codes))
	picked := map[string]bool{}
	for _, c := range codes {
		picked[c] = true
		in, ok := kept[c]
		if !ok {
			in = order.RecipientInput{Practice: c}
		}
		inputs = append(inputs, in)
	}
	err = s.orders.SaveRecipients(r.Context(), u.Actor(), o.CallOffID(), version(r), it.ID, inputs)
	if f, ok := formOf(err, r.PostForm, order.FieldPractices); ok {
		return s.renderItem(w, r, o, it, http.StatusBadRequest, practicesOnly(f), picked, nil)
	}
	if err != nil {
		return err
	}
	if len(inputs) == 0 {
		s.flash(r.Context(), "No practices receive "+it.Name+" now.")
		return redirect(w, r, itemPath(o, it))
	}
	return redirect(w, r, itemPath(o, it)+"/recipients")
}

// practicesOnly points every problem of a practice choice at the list:
// quantities and dates are not on the page that chooses practices.
func practicesOnly(f views.Form) views.Form {
	var msgs []string
	for _, e := range f.Errors {
		msgs = append(msgs, e.Message)
	}
	return views.Form{Values: f.Values, Errors: []views.FieldError{{Field: order.FieldPractices, Message: strings.Join(msgs, "; ")}}}
}

// maxUpload bounds an uploaded list of practices.
const maxUpload = 1 << 20

// orderItemUpload adds the practices of an uploaded CSV of ODS codes:
// every unknown code or other CCG's practice is listed and none is added.
func (s *Server) orderItemUpload(w http.ResponseWriter, r *http.Request) error {
	u := currentUser(r)
	r.Body = http.MaxBytesReader(w, r.Body, maxUpload+4096)
	o, it, err := s.loadItem(r)
	if err != nil {
		return err
	}
	if err := r.ParseMultipartForm(maxUpload); err != nil {
		var tooBig *http.MaxBytesError
		msg := "The file could not be read: choose a CSV file of practice ODS codes"
		if errors.As(err, &tooBig) {
			msg = "The file is larger than 1 MB: a list of practice codes is much smaller"
		}
		return s.renderItem(w, r, o, it, http.StatusBadRequest, views.Form{}, nil, []string{msg})
	}
	// The middleware's copy of the request hides this form from the
	// server's own clean-up: remove any temporary file here.
	defer r.MultipartForm.RemoveAll() //nolint:errcheck
	file, _, err := r.FormFile(views.UploadFileInput)
	if err != nil {
		return s.renderItem(w, r, o, it, http.StatusBadRequest, views.Form{}, nil, []string{"Choose a CSV file to upload"})
	}
	defer file.Close()
	codes, problems := order.ParseRecipientCSV(file)
	if len(problems) == 0 {
		var good []string
		good, problems, err = order.CheckPractices(r.Context(), s.pool, o.CCGCode, codes)
		if err != nil {
			return err
		}
		codes = good
	}
	if len(problems) > 0 {
		return s.renderItem(w, r, o, it, http.StatusBadRequest, views.Form{}, nil, problems)
	}
	kept := keptRecipients(o, it)
	inputs := make([]order.RecipientInput, 0, len(kept)+len(codes))
	for _, in := range kept {
		inputs = append(inputs, in)
	}
	for _, c := range codes {
		if _, ok := kept[c]; !ok {
			inputs = append(inputs, order.RecipientInput{Practice: c})
			kept[c] = order.RecipientInput{}
		}
	}
	err = s.orders.SaveRecipients(r.Context(), u.Actor(), o.CallOffID(), version(r), it.ID, inputs)
	if f, ok := formOf(err, nil, order.FieldPractices); ok {
		var msgs []string
		for _, e := range f.Errors {
			msgs = append(msgs, e.Message)
		}
		return s.renderItem(w, r, o, it, http.StatusBadRequest, views.Form{}, nil, msgs)
	}
	if err != nil {
		return err
	}
	s.flash(r.Context(), strconv.Itoa(len(codes))+" practices from the file added to "+it.Name+".")
	return redirect(w, r, itemPath(o, it)+"/recipients")
}

// orderRecipientsEdit shows each picked practice's quantity and date.
func (s *Server) orderRecipientsEdit(w http.ResponseWriter, r *http.Request) error {
	o, it, err := s.loadItem(r)
	if err != nil {
		return err
	}
	f := views.Form{Values: map[string]string{}}
	for _, rc := range it.Recipients {
		if rc.AddedInRevision != o.Revision {
			continue
		}
		f.Values[inputQuantity(rc.PracticeCode)] = strconv.Itoa(rc.Quantity)
		if d := rc.PlannedDelivery; d != nil {
			f.Values[inputDelivery(rc.PracticeCode)+"-day"] = strconv.Itoa(d.Day())
			f.Values[inputDelivery(rc.PracticeCode)+"-month"] = strconv.Itoa(int(d.Month()))
			f.Values[inputDelivery(rc.PracticeCode)+"-year"] = strconv.Itoa(d.Year())
		}
	}
	return s.renderRecipients(w, r, o, it, http.StatusOK, f)
}

func (s *Server) renderRecipients(w http.ResponseWriter, r *http.Request, o order.Order, it order.Item, status int, f views.Form) error {
	if !o.Editable() {
		return order.ErrNotEditable(o)
	}
	var rows []views.RecipientEdit
	for _, rc := range it.Recipients {
		if rc.AddedInRevision != o.Revision {
			continue
		}
		listSize := "not known"
		if rc.ListSize != nil {
			listSize = views.Number(*rc.ListSize)
		}
		rows = append(rows, views.RecipientEdit{Code: rc.PracticeCode, Name: rc.PracticeName, ListSize: listSize})
	}
	v, iv, err := s.orderItemViews(r, o, it)
	if err != nil {
		return err
	}
	s.render(w, r, status, views.OrderRecipients(views.OrderRecipientsPage{
		Page:       s.orderPage(r, o, "Quantities and planned delivery dates"),
		Order:      v,
		Item:       iv,
		Form:       f,
		Rows:       rows,
		PerPatient: it.PerPatient(),
	}))
	return nil
}

// The inputs of the recipients form: "Apply to all"'s date, and each
// practice's quantity and planned delivery date.
const (
	inputAllDate  = views.OrderAllDatesInput
	fieldAllDate  = views.OrderAllDatesInput // the form's own field: the domain never sees it
	actionApply   = views.OrderActionApplyAll
	inputAction   = views.OrderActionInput
	inputPractice = views.OrderPracticeInput
	actionAll     = views.OrderActionAll
)

func inputQuantity(practice string) string { return views.OrderQuantityInput(practice) }
func inputDelivery(practice string) string { return views.OrderDeliveryInput(practice) }

// parseRecipientsForm reads the quantity and planned delivery date of each
// practice this revision added to it. "Apply to all" first sets its date
// on every one of them (in the form, so the page shows it if refused).
func parseRecipientsForm(f *form, o order.Order, it order.Item) []order.RecipientInput {
	if f.text(inputAction) == actionApply {
		d := f.date(inputAllDate, fieldAllDate, "Date to apply to every practice")
		if f.ok() {
			for _, rc := range it.Recipients {
				if rc.AddedInRevision == o.Revision {
					name := inputDelivery(rc.PracticeCode)
					f.values.Set(name+"-day", strconv.Itoa(d.Day()))
					f.values.Set(name+"-month", strconv.Itoa(int(d.Month())))
					f.values.Set(name+"-year", strconv.Itoa(d.Year()))
				}
			}
		}
	}
	var inputs []order.RecipientInput
	for _, rc := range it.Recipients {
		if rc.AddedInRevision != o.Revision {
			continue
		}
		code := rc.PracticeCode
		in := order.RecipientInput{Practice: code}
		q := f.whole(inputQuantity(code), order.FieldQuantity(code), "Quantity for "+rc.PracticeName)
		in.Quantity = &q
		if d := f.optionalDate(inputDelivery(code), order.FieldDelivery(code), "Planned delivery date for "+rc.PracticeName); !d.IsZero() {
			in.PlannedDelivery = &d
		}
		inputs = append(inputs, in)
	}
	return inputs
}

// orderRecipientsSave saves quantities and dates; "Apply to all" sets one
// date on every practice first.
func (s *Server) orderRecipientsSave(w http.ResponseWriter, r *http.Request) error {
	u := currentUser(r)
	o, it, err := s.loadItem(r)
	if err != nil {
		return err
	}
	form := readForm(r)
	inputs := parseRecipientsForm(form, o, it)
	fields := []string{fieldAllDate}
	for _, in := range inputs {
		fields = append(fields, order.FieldQuantity(in.Practice), order.FieldDelivery(in.Practice))
	}
	if form.ok() {
		err = s.orders.SaveRecipients(r.Context(), u.Actor(), o.CallOffID(), version(r), it.ID, inputs)
	} else {
		// The form's own problems, and every other the domain finds.
		err = form.check(order.CheckRecipients(r.Context(), s.pool, o, it.ID, inputs))
	}
	if f, ok := orderFormOf(err, r.PostForm, fields...); ok {
		return s.renderRecipients(w, r, o, it, http.StatusBadRequest, f)
	}
	if err != nil {
		return err
	}
	s.flash(r.Context(), "Quantities and planned delivery dates saved for "+it.Name+".")
	return redirect(w, r, "/orders/"+o.CallOffID())
}

// orderItemDelete removes an item from an order in progress.
func (s *Server) orderItemDelete(w http.ResponseWriter, r *http.Request) error {
	u := currentUser(r)
	o, it, err := s.loadItem(r)
	if err != nil {
		return err
	}
	err = s.orders.RemoveItem(r.Context(), u.Actor(), o.CallOffID(), version(r), it.ID)
	if apperr.Is(err, apperr.Invalid) {
		return s.renderOrder(w, r, o, http.StatusBadRequest, views.Form{Errors: []views.FieldError{{Field: "items", Message: apperr.MessageOf(err)}}})
	}
	if err != nil {
		return err
	}
	s.flash(r.Context(), it.Name+" removed from the order.")
	return redirect(w, r, "/orders/"+o.CallOffID())
}

// orderItemViews are the view models of an order and one of its items,
// with the item's cost.
func (s *Server) orderItemViews(r *http.Request, o order.Order, it order.Item) (views.OrderView, views.OrderItemView, error) {
	v, err := s.orderView(r, o)
	if err != nil {
		return v, views.OrderItemView{}, err
	}
	lines, _ := order.OrderCost(o)
	for i, x := range o.Items {
		if x.ID == it.ID {
			return v, itemView(o, x, lines[i]), nil
		}
	}
	return v, views.OrderItemView{}, errNotFound
}
