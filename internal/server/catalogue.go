package server

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/go-chi/chi/v5"

	"ccgtracker/internal/org"
	"ccgtracker/internal/paging"
	"ccgtracker/web/views"
)

func itemRow(it org.Item) views.ItemRow {
	return views.ItemRow{
		ID: it.ID, Name: it.Name, Kind: org.KindName(it.Kind), SupplierName: it.SupplierName, SupplierID: it.SupplierID,
		Frameworks: strings.Join(it.Frameworks, ", "), Prices: it.PriceCount, Published: it.Published,
	}
}

// catalogueList is the searchable catalogue.
func (s *Server) catalogueList(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f := org.ItemFilter{Query: strings.TrimSpace(q.Get(views.CatalogueQueryInput)), Kind: q.Get(views.CatalogueKindInput), Supplier: q.Get(views.CatalogueSupplierInput)}
	res, err := org.SearchItems(r.Context(), s.pool, f, paging.Parse(q.Get("page"), pageSize))
	if err != nil {
		return err
	}
	suppliers, err := org.ListSuppliers(r.Context(), s.pool)
	if err != nil {
		return err
	}
	kinds := []views.Option{{Value: "", Label: "All types"}}
	for _, k := range []string{org.KindSolution, org.KindAdditional, org.KindAssociated} {
		kinds = append(kinds, views.Option{Value: k, Label: org.KindName(k)})
	}
	supplierOptions := []views.Option{{Value: "", Label: "All suppliers"}}
	for _, sp := range suppliers {
		supplierOptions = append(supplierOptions, views.Option{Value: sp.ID, Label: sp.Name})
	}
	rows := make([]views.ItemRow, len(res.Rows))
	for i, it := range res.Rows {
		rows[i] = itemRow(it)
	}
	form := views.Form{Values: map[string]string{views.CatalogueQueryInput: f.Query, views.CatalogueKindInput: f.Kind, views.CatalogueSupplierInput: f.Supplier}}
	s.render(w, r, http.StatusOK, views.CatalogueList(views.CatalogueListPage{
		Page:      s.page(r, "Buying Catalogue"),
		Rows:      rows,
		Pager:     pager(res, "/catalogue", url.Values{views.CatalogueQueryInput: {f.Query}, views.CatalogueKindInput: {f.Kind}, views.CatalogueSupplierInput: {f.Supplier}}),
		Form:      form,
		Kinds:     kinds,
		Suppliers: supplierOptions,
	}))
	return nil
}

// catalogueShow is one catalogue item with its prices.
func (s *Server) catalogueShow(w http.ResponseWriter, r *http.Request) error {
	d, err := org.GetItem(r.Context(), s.pool, chi.URLParam(r, "id"))
	if err != nil {
		return err
	}
	v := views.ItemDetail{ItemRow: itemRow(d.Item)}
	if d.ParentID != "" {
		v.Parent = &views.Link{Label: d.ParentName + " (" + d.ParentID + ")", Href: "/catalogue/" + d.ParentID}
	}
	for _, p := range d.Prices {
		v.PriceRows = append(v.PriceRows, views.PriceRow{
			Price: p.Price.String(), Per: p.Per(), Provisioning: p.ProvisioningType, Calculation: p.CalculationType,
		})
	}
	for _, a := range d.Additional {
		v.Additional = append(v.Additional, itemRow(a))
	}
	s.render(w, r, http.StatusOK, views.CatalogueItem(views.CatalogueItemPage{
		Page: s.page(r, d.Name, views.Link{Label: "Catalogue", Href: "/catalogue"}),
		Item: v,
	}))
	return nil
}
