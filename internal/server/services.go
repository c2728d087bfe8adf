package server

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"ccgtracker/internal/dates"
	"ccgtracker/internal/ledger"
	"ccgtracker/internal/paging"
	"ccgtracker/web/views"
)

// ledgerStates are the states of a service instance in words, in their
// order of life, with the tone of their tag.
var ledgerStates = []struct {
	state ledger.State
	label string
	tone  views.Tone
}{
	{ledger.Planned, "Planned", views.ToneProgress},
	{ledger.Active, "Active", views.ToneGood},
	{ledger.Ceased, "Ceased", views.ToneNeutral},
	{ledger.Cancelled, "Cancelled", views.ToneBad},
}

func ledgerState(s ledger.State) (label string, tone views.Tone) {
	for _, st := range ledgerStates {
		if st.state == s {
			return st.label, st.tone
		}
	}
	return string(s), views.ToneNeutral
}

func ledgerInstancePath(ccgCode string, id int64) string {
	return "/ccgs/" + ccgCode + "/services/" + strconv.FormatInt(id, 10)
}

// ledgerRow is an instance as the ledger tables show it.
func ledgerRow(i ledger.Instance) views.LedgerRow {
	state, tone := ledgerState(i.State)
	source := views.Link{Label: i.Source()}
	switch {
	case i.CallOffID != "":
		source.Href = "/orders/" + i.CallOffID
	case i.AgreementID != nil:
		source.Href = agreementPath(i.CCGCode, *i.AgreementID)
	}
	return views.LedgerRow{
		Ref: i.Ref(), Href: ledgerInstancePath(i.CCGCode, i.ID),
		PracticeCode: i.PracticeCode, PracticeName: i.PracticeName,
		ItemID: i.ItemID, ItemName: i.ItemName, Supplier: i.SupplierName, Source: source,
		State: state, StateTone: tone,
		PlannedM1: ledgerShortDate(i.PlannedM1), ActualM1: ledgerShortDate(i.ActualM1), M2: ledgerShortDate(i.M2), Cessation: ledgerShortDate(i.Cessation),
	}
}

// ledgerShortDate is a date in a table, where four dates share a row: the NHS
// style guide allows the month shortened there (1 Jan 2020).
func ledgerShortDate(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.Format("2 Jan 2006")
}

// parseLedgerFilter reads the service ledger's filters from its query: a
// practice's ODS code, in any case, and one of the states (anything else
// lists every state).
func parseLedgerFilter(q url.Values) ledger.Filter {
	f := ledger.Filter{Practice: strings.ToUpper(strings.TrimSpace(q.Get(views.LedgerPracticeFilter)))}
	for _, st := range ledgerStates {
		if q.Get(views.LedgerStateFilter) == string(st.state) {
			f.State = st.state
		}
	}
	return f
}

// serviceList is a CCG's service ledger, filtered by practice and state.
func (s *Server) serviceList(w http.ResponseWriter, r *http.Request) error {
	u := currentUser(r)
	c, err := s.ledgerCCG(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f := parseLedgerFilter(q)
	states := []views.Option{{Value: "", Label: "All states"}}
	for _, st := range ledgerStates {
		states = append(states, views.Option{Value: string(st.state), Label: st.label})
	}
	res, err := ledger.List(r.Context(), s.pool, u.Scope(), c.Code, f, paging.Parse(q.Get("page"), pageSize))
	if err != nil {
		return err
	}
	rows := make([]views.LedgerRow, len(res.Rows))
	for i, inst := range res.Rows {
		rows[i] = ledgerRow(inst)
	}
	s.render(w, r, http.StatusOK, views.ServiceLedger(views.ServiceLedgerPage{
		Page: s.page(r, "Services", ledgerCrumbs(u, c)...), CCG: ccgRow(c), Services: rows,
		Pager:  pager(res, "/ccgs/"+c.Code+"/services", url.Values{views.LedgerPracticeFilter: {f.Practice}, views.LedgerStateFilter: {string(f.State)}}),
		Form:   views.Form{Values: map[string]string{views.LedgerPracticeFilter: f.Practice, views.LedgerStateFilter: string(f.State)}},
		States: states,
	}))
	return nil
}

// serviceShow is one service instance with its price snapshot and history.
// The instance must be the CCG's the URL names.
func (s *Server) serviceShow(w http.ResponseWriter, r *http.Request) error {
	u := currentUser(r)
	c, err := s.ledgerCCG(r)
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil || id <= 0 {
		return errNotFound
	}
	inst, hist, err := ledger.Get(r.Context(), s.pool, u.Scope(), id)
	if err != nil {
		return err
	}
	if inst.CCGCode != c.Code {
		return errNotFound
	}
	per, err := ledger.PricingUnitDescription(r.Context(), s.pool, inst.PricingUnit)
	if err != nil {
		return err
	}
	switch inst.TimeUnit {
	case "month":
		per += " per month"
	case "year":
		per += " per year"
	default:
		per += ", one-off"
	}
	quantity := views.Number(inst.Quantity)
	if inst.QuantityRule == ledger.QuantityListSize {
		quantity += " (the practice's list size in force each month)"
	}
	v := views.InstancePage{
		LedgerRow: ledgerRow(inst), CCGCode: c.Code, CCGName: c.Name,
		Price: inst.UnitPrice.String() + " " + per, Quantity: quantity,
	}
	// The page has room for the dates in full.
	v.PlannedM1, v.ActualM1, v.M2, v.Cessation = longDate(inst.PlannedM1), longDate(inst.ActualM1), longDate(inst.M2), longDate(inst.Cessation)
	// Newest first, as people read a history.
	for i := len(hist) - 1; i >= 0; i-- {
		v.History = append(v.History, ledgerChange(hist[i]))
	}
	v.Page = s.page(r, "Service "+inst.Ref(), ledgerCrumbs(u, c, views.Link{Label: "Services", Href: "/ccgs/" + c.Code + "/services"})...)
	s.render(w, r, http.StatusOK, views.Instance(v))
	return nil
}

// ledgerFields are the values an instance's history keeps, as the ledger
// writes them (ledger.snapshot), in the order people read them.
var ledgerFields = []struct{ key, label string }{
	{"state", "State"},
	{"planned_m1", "Planned M1"},
	{"actual_m1", "Actual M1"},
	{"m2", "M2"},
	{"cessation", "Cessation date"},
	{"quantity", "Quantity"},
}

// ledgerChange turns a history entry into the fields it changed; a
// creation (no before) lists the values the instance started with.
func ledgerChange(h ledger.HistoryEntry) views.InstanceChange {
	out := views.InstanceChange{At: h.At.In(dates.London).Format("2 January 2006 15:04"), Who: h.Actor, What: h.Change}
	var before, after map[string]any
	_ = json.Unmarshal(h.Before, &before) // "null" leaves it nil
	_ = json.Unmarshal(h.After, &after)
	for _, f := range ledgerFields {
		b, a := ledgerHistoryValue(f.key, before[f.key]), ledgerHistoryValue(f.key, after[f.key])
		switch {
		case before == nil && a != "":
			out.Fields = append(out.Fields, views.FieldChange{Field: f.label, After: a})
		case before != nil && a != b:
			if b == "" {
				b = "none"
			}
			out.Fields = append(out.Fields, views.FieldChange{Field: f.label, Before: b, After: a})
		}
	}
	return out
}

// ledgerHistoryValue is one value of a history snapshot in words.
func ledgerHistoryValue(key string, v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case float64:
		return views.Number(int64(v))
	case string:
		if key == "state" {
			label, _ := ledgerState(ledger.State(v))
			return label
		}
		if t, err := time.Parse(time.DateOnly, v); err == nil {
			return t.Format("2 January 2006")
		}
		return v
	}
	b, _ := json.Marshal(v)
	return string(b)
}
