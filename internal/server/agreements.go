package server

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"ccgtracker/internal/auth"
	"ccgtracker/internal/ledger"
	"ccgtracker/internal/org"
	"ccgtracker/internal/paging"
	"ccgtracker/web/views"
)

// ledgerCCG is the CCG the URL names, or NotFound when the user may not
// see it: a buyer cannot tell another CCG's pages from missing ones.
func (s *Server) ledgerCCG(r *http.Request) (org.CCG, error) {
	return org.GetCCG(r.Context(), s.pool, currentUser(r).Scope(), strings.ToUpper(chi.URLParam(r, "code")))
}

// ledgerCrumbs lead from a CCG's sub-pages back to the CCG.
func ledgerCrumbs(u *auth.User, c org.CCG, more ...views.Link) []views.Link {
	crumbs := []views.Link{{Label: "Dashboard", Href: "/"}}
	if u.Role != auth.Buyer {
		crumbs = append(crumbs, views.Link{Label: "CCGs", Href: "/ccgs"})
	}
	crumbs = append(crumbs, views.Link{Label: c.Name, Href: "/ccgs/" + c.Code})
	return append(crumbs, more...)
}

func agreementPath(ccgCode string, id int64) string {
	return "/ccgs/" + ccgCode + "/agreements/" + strconv.FormatInt(id, 10)
}

func agreementRow(a ledger.Agreement) views.AgreementRow {
	return views.AgreementRow{
		Href: agreementPath(a.CCGCode, a.ID), SupplierID: a.SupplierID, SupplierName: a.SupplierName,
		StartDate: a.StartDate.Format("2 January 2006"), Services: a.Services,
	}
}

// agreementList is a CCG's continuity agreements.
func (s *Server) agreementList(w http.ResponseWriter, r *http.Request) error {
	u := currentUser(r)
	c, err := s.ledgerCCG(r)
	if err != nil {
		return err
	}
	list, err := ledger.ListAgreements(r.Context(), s.pool, u.Scope(), c.Code)
	if err != nil {
		return err
	}
	rows := make([]views.AgreementRow, len(list))
	for i, a := range list {
		rows[i] = agreementRow(a)
	}
	s.render(w, r, http.StatusOK, views.AgreementList(views.AgreementListPage{
		Page: s.page(r, "Continuity agreements", ledgerCrumbs(u, c)...), CCG: ccgRow(c), Agreements: rows,
	}))
	return nil
}

// agreementShow is one agreement with its services; reviewers also get
// the forms to change it.
func (s *Server) agreementShow(w http.ResponseWriter, r *http.Request) error {
	return s.renderAgreement(w, r, http.StatusOK, views.Form{}, views.Form{})
}

// agreementOfRequest is the agreement the URL names, within its CCG.
func (s *Server) agreementOfRequest(r *http.Request) (org.CCG, ledger.Agreement, error) {
	c, err := s.ledgerCCG(r)
	if err != nil {
		return c, ledger.Agreement{}, err
	}
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil || id <= 0 {
		return c, ledger.Agreement{}, errNotFound
	}
	a, err := ledger.GetAgreement(r.Context(), s.pool, currentUser(r).Scope(), c.Code, id)
	return c, a, err
}

// renderAgreement shows the agreement page with the two forms as given:
// empty, or refused with what is wrong.
func (s *Server) renderAgreement(w http.ResponseWriter, r *http.Request, status int, add, cancel views.Form) error {
	u := currentUser(r)
	c, a, err := s.agreementOfRequest(r)
	if err != nil {
		return err
	}
	res, err := ledger.ListAgreementServices(r.Context(), s.pool, u.Scope(), c.Code, a.ID, paging.Parse(r.URL.Query().Get("page"), pageSize))
	if err != nil {
		return err
	}
	rows := make([]views.LedgerRow, len(res.Rows))
	for i, inst := range res.Rows {
		rows[i] = ledgerRow(inst)
	}
	v := views.AgreementView{AgreementRow: agreementRow(a), CCGCode: c.Code, CCGName: c.Name, CanEdit: u.Role == auth.Reviewer}
	if v.CanEdit {
		items, err := org.ItemsOfSupplier(r.Context(), s.pool, a.SupplierID)
		if err != nil {
			return err
		}
		v.Items = []views.Option{{Value: "", Label: "Select a service"}}
		for _, it := range items {
			// Without a price there is nothing to snapshot: AddAgreementService refuses it.
			if it.PriceCount > 0 {
				v.Items = append(v.Items, views.Option{Value: it.ID, Label: it.Name + " (" + it.ID + ")"})
			}
		}
	}
	title := "Continuity agreement with " + a.SupplierName
	if add.HasErrors() || cancel.HasErrors() {
		title = "Error: " + title
	}
	crumbs := ledgerCrumbs(u, c, views.Link{Label: "Continuity agreements", Href: "/ccgs/" + c.Code + "/agreements"})
	s.render(w, r, status, views.Agreement(views.AgreementPage{
		Page: s.page(r, title, crumbs...), Agreement: v, Services: rows,
		Pager: pager(res, agreementPath(c.Code, a.ID), url.Values{}), Add: add, Cancel: cancel,
	}))
	return nil
}

// addServiceInputs are the add-a-service form's inputs, by field.
var addServiceInputs = inputs{
	ledger.FieldPractice: views.AddServicePracticeInput,
	ledger.FieldItem:     views.AddServiceItemInput,
	ledger.FieldStart:    views.DateInputID(views.AddServiceStartInput),
}

// parseAddServiceForm reads the form adding a service to an agreement; a
// start date that is not a date is noted in f (the domain judges a blank one).
func parseAddServiceForm(f *form) ledger.AgreementService {
	return ledger.AgreementService{
		Practice: f.text(views.AddServicePracticeInput),
		Item:     f.text(views.AddServiceItemInput),
		Start:    f.optionalDate(views.AddServiceStartInput, ledger.FieldStart, "Start date"),
	}
}

// cancellationInputs are the cancellation form's inputs, by field.
var cancellationInputs = inputs{
	ledger.FieldCancelPractice: views.CancelPracticeInput,
	ledger.FieldCancelDate:     views.DateInputID(views.CancelDateInput),
}

// parseCancellationForm reads the form recording a practice's
// cancellation; a date that is not a date is noted in f.
func parseCancellationForm(f *form) ledger.Cancellation {
	return ledger.Cancellation{
		Practice: strings.ToUpper(f.text(views.CancelPracticeInput)),
		Date:     f.optionalDate(views.CancelDateInput, ledger.FieldCancelDate, "Cancellation date"),
	}
}

// agreementAddService adds a service to the agreement (reviewers).
func (s *Server) agreementAddService(w http.ResponseWriter, r *http.Request) error {
	u := currentUser(r)
	c, a, err := s.agreementOfRequest(r)
	if err != nil {
		return err
	}
	f := readForm(r)
	inst, err := s.ledger.AddAgreementService(r.Context(), u.Actor(), c.Code, a.ID, parseAddServiceForm(f))
	err = f.check(err)
	if f, ok := formAt(err, r.PostForm, addServiceInputs.of, ledger.FieldPractice, ledger.FieldItem, ledger.FieldStart); ok {
		return s.renderAgreement(w, r, http.StatusBadRequest, f, views.Form{})
	}
	if err != nil {
		return err
	}
	s.flash(r.Context(), fmt.Sprintf("%s added for %s (%s) from %s.", inst.ItemName, inst.PracticeName, inst.Ref(), longDate(inst.ActualM1)))
	return redirect(w, r, agreementPath(c.Code, a.ID))
}

// agreementCancel records a practice's cancellation (reviewers).
func (s *Server) agreementCancel(w http.ResponseWriter, r *http.Request) error {
	u := currentUser(r)
	c, a, err := s.agreementOfRequest(r)
	if err != nil {
		return err
	}
	f := readForm(r)
	cancellation := parseCancellationForm(f)
	n, err := s.ledger.RecordAgreementCancellation(r.Context(), u.Actor(), c.Code, a.ID, cancellation)
	err = f.check(err)
	if f, ok := formAt(err, r.PostForm, cancellationInputs.of, ledger.FieldCancelPractice, ledger.FieldCancelDate); ok {
		return s.renderAgreement(w, r, http.StatusBadRequest, views.Form{}, f)
	}
	if err != nil {
		return err
	}
	services := "services end"
	if n == 1 {
		services = "service ends"
	}
	s.flash(r.Context(), fmt.Sprintf("Cancellation recorded: %d %s of %s on %s.", n, services, cancellation.Practice, longDate(&cancellation.Date)))
	return redirect(w, r, agreementPath(c.Code, a.ID))
}
