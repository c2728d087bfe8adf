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
	s.render(w, r, http.StatusOK, views.AgreementList(s.page(r, "Continuity agreements", ledgerCrumbs(u, c)...), ccgRow(c), rows))
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
	s.render(w, r, status, views.AgreementPage(s.page(r, title, crumbs...), v, rows,
		pager(res, agreementPath(c.Code, a.ID), url.Values{}), add, cancel))
	return nil
}

// agreementAddService adds a service to the agreement (reviewers).
func (s *Server) agreementAddService(w http.ResponseWriter, r *http.Request) error {
	u := currentUser(r)
	c, a, err := s.agreementOfRequest(r)
	if err != nil {
		return err
	}
	f := readForm(r)
	start := f.optionalDate("start", ledger.FieldStart, "Start date")
	inst, err := ledger.AddAgreementService(r.Context(), s.pool, s.now(), u.ID, u.Scope(), c.Code, a.ID,
		f.text(ledger.FieldPractice), f.text(ledger.FieldItem), start)
	err = f.check(err)
	if f, ok := formOf(err, r.PostForm, ledger.FieldPractice, ledger.FieldItem, ledger.FieldStart); ok {
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
	date := f.optionalDate("cancel-date", ledger.FieldCancelDate, "Cancellation date")
	practice := strings.ToUpper(f.text(ledger.FieldCancelPractice))
	n, err := ledger.RecordAgreementCancellation(r.Context(), s.pool, s.now(), u.ID, u.Scope(), c.Code, a.ID, practice, date)
	err = f.check(err)
	if f, ok := formOf(err, r.PostForm, ledger.FieldCancelPractice, ledger.FieldCancelDate); ok {
		return s.renderAgreement(w, r, http.StatusBadRequest, views.Form{}, f)
	}
	if err != nil {
		return err
	}
	services := "services end"
	if n == 1 {
		services = "service ends"
	}
	s.flash(r.Context(), fmt.Sprintf("Cancellation recorded: %d %s of %s on %s.", n, services, practice, longDate(&date)))
	return redirect(w, r, agreementPath(c.Code, a.ID))
}
