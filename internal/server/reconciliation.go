package server

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"ccgtracker/internal/apperr"
	"ccgtracker/internal/auth"
	"ccgtracker/internal/billing"
	"ccgtracker/internal/dates"
	"ccgtracker/internal/money"
	"ccgtracker/internal/tracker"
	"ccgtracker/web/views"
)

// Reconciliation (DOMAIN.md §8): finance reads each month's lines and
// totals, exports them and closes the month; admins read and export but do
// not close. Buyers and reviewers have no access (the route table says so).

// reconLinesPerPage is how many lines the month's page lists at a time.
const reconLinesPerPage = 50

// reconChartSuppliers is how many suppliers the chart draws; the rest are
// added up as "Other suppliers".
const reconChartSuppliers = 6

// reconPeriod is the month named in the address (YYYY-MM).
func reconPeriod(r *http.Request) (tracker.Period, error) {
	p, ok := tracker.ParsePeriod(chi.URLParam(r, "period"))
	if !ok {
		return p, errNotFound
	}
	return p, nil
}

// reconciliationIndex lists the last twelve months and the first open one,
// with the chart of the twelve months' totals by supplier.
func (s *Server) reconciliationIndex(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	st, err := billing.ReadStatus(ctx, s.pool)
	if err != nil {
		return err
	}
	today := dates.Today(s.now())
	this := tracker.PeriodOf(today)
	var months []tracker.Period // newest first
	for m, i := this, 0; i < 12; m, i = m.Prev(), i+1 {
		months = append(months, m)
	}
	if st.FirstOpen != nil {
		fo := tracker.PeriodOf(*st.FirstOpen)
		if fo.First().Before(months[len(months)-1].First()) {
			months = append(months, fo)
		}
	}
	var v views.ReconciliationIndexPage
	for _, m := range months {
		ms := st.State(m.First(), today)
		rm := views.ReconMonth{Period: m.String(), Name: m.Name(), Href: "/reconciliation/" + m.String(), Closed: ms.Closed, State: ms.Words}
		if ms.Closable && currentUser(r).Role == auth.Finance {
			rm.CloseHref = "/reconciliation/" + m.String() + "/close"
		}
		v.Months = append(v.Months, rm)
	}
	if v.Chart, err = s.reconChart(ctx, months[:12]); err != nil {
		return err
	}
	v.Page = s.page(r, "Reconciliation", views.Link{Label: "Dashboard", Href: "/"})
	s.render(w, r, http.StatusOK, views.ReconciliationIndex(v))
	return nil
}

// reconChart draws each supplier's total in each of the months (given
// newest first): the top suppliers by their twelve-month total, and the
// rest added up.
func (s *Server) reconChart(ctx context.Context, newestFirst []tracker.Period) (views.ReconChart, error) {
	months := slices.Clone(newestFirst)
	slices.Reverse(months)
	n := len(months)
	firsts := make([]time.Time, n)
	for i, m := range months {
		firsts[i] = m.First()
	}
	all, err := s.billing.Chart(ctx, firsts)
	if err != nil {
		return views.ReconChart{}, err
	}
	if len(all) > reconChartSuppliers {
		other := billing.SupplierMonths{Name: "Other suppliers (" + strconv.Itoa(len(all)-reconChartSuppliers+1) + ")", Months: make([]money.Amount, n)}
		for _, sp := range all[reconChartSuppliers-1:] {
			for i, a := range sp.Months {
				other.Months[i] += a
			}
		}
		all = append(slices.Clone(all[:reconChartSuppliers-1]), other)
	}
	var top money.Amount
	for _, sp := range all {
		for _, a := range sp.Months {
			top = max(top, a)
		}
	}
	scale := niceScale(top)
	c := views.ReconChart{
		Title: "Each supplier's total by month, " + months[0].Name() + " to " + months[n-1].Name(),
		Description: "A line chart with a line for each of " + strconv.Itoa(len(all)) + " suppliers, of the total charged (payable, held and adjustments) in each month from " +
			months[0].Name() + " to " + months[n-1].Name() + ", on a scale from £0 to " + scale.String() + ". The table after the chart gives the same figures.",
	}
	for i := 0; i <= 4; i++ {
		c.TickLabels = append(c.TickLabels, wholePounds(scale.Times(int64(i))/4))
	}
	for _, m := range months {
		c.Months = append(c.Months, views.ChartMonth{Short: m.First().Format("Jan"), Year: m.First().Format("2006"), Name: m.Name()})
	}
	for _, sp := range all {
		series := views.ChartSeries{Name: sp.Name}
		var amounts []string
		for _, a := range sp.Months {
			pct := int64(0)
			if scale > 0 && a > 0 {
				pct = (int64(a)*100 + int64(scale)/2) / int64(scale)
			}
			series.Values = append(series.Values, views.ChartValue{Percent: int(min(pct, 100)), OK: true})
			amounts = append(amounts, a.String())
		}
		c.Series = append(c.Series, series)
		c.Amounts = append(c.Amounts, amounts)
	}
	return c, nil
}

// niceScale is the top of the chart's scale: the smallest 1, 2 or 5 ×
// 10ⁿ pounds (at least £1) not below top.
func niceScale(top money.Amount) money.Amount {
	for step := money.Amount(money.Scale); ; step *= 10 {
		for _, k := range []int64{1, 2, 5} {
			if s := step.Times(k); s >= top {
				return s
			}
		}
	}
}

// wholePounds prints an amount without its pence when it has none.
func wholePounds(a money.Amount) string {
	return strings.TrimSuffix(a.String(), ".00")
}

// reconFilter reads the filters of the month's page.
func reconFilter(q url.Values) billing.Filter {
	return billing.ParseFilter(q.Get(views.ReconSupplierFilter), q.Get(views.ReconCCGFilter), q.Get(views.ReconProductFilter), q.Get(views.ReconStateFilter))
}

// reconFilterValues are the filters in use, by their names in the query.
func reconFilterValues(f billing.Filter) map[string]string {
	return map[string]string{views.ReconSupplierFilter: f.Supplier, views.ReconCCGFilter: f.CCG, views.ReconProductFilter: f.Product, views.ReconStateFilter: f.State}
}

// reconciliationMonth is a month's totals by supplier and CCG and its
// lines, a page at a time, all narrowed by the filters: from billing's
// cache of the month, computed once per state of the ledger.
func (s *Server) reconciliationMonth(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	p, err := reconPeriod(r)
	if err != nil {
		return err
	}
	st, err := billing.ReadStatus(ctx, s.pool)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f := reconFilter(q)
	v := views.ReconciliationMonthPage{Period: p.String(), Name: p.Name(),
		CSVHref:  "/reconciliation/" + p.String() + ".csv",
		XLSXHref: "/reconciliation/" + p.String() + ".xlsx",
		Form:     views.Form{Values: reconFilterValues(f)},
		Filtered: f != (billing.Filter{}),
		States:   []views.Option{{Value: "", Label: "Payable and held"}, {Value: "payable", Label: "Payable"}, {Value: "held", Label: "Held"}},
	}
	ms := st.State(p.First(), dates.Today(s.now()))
	v.Closed, v.State = ms.Closed, ms.Words
	if ms.Closable && currentUser(r).Role == auth.Finance {
		v.CloseHref = "/reconciliation/" + p.String() + "/close"
	}

	page, _ := strconv.Atoi(q.Get("page"))
	page = max(page, 1)
	from := (page - 1) * reconLinesPerPage
	mp, err := s.billing.Page(ctx, p.First(), f, from, reconLinesPerPage)
	if err != nil {
		return err
	}
	for _, t := range mp.BySupplier {
		v.BySupplier = append(v.BySupplier, reconTotal(t.Name+" ("+t.Code+")", t))
	}
	for _, t := range mp.ByCCG {
		v.ByCCG = append(v.ByCCG, reconTotal(t.Name+" ("+t.Code+")", t))
	}
	v.Total = reconTotal("All", mp.All)
	for _, l := range mp.Lines {
		v.Lines = append(v.Lines, reconLineRow(p, l))
	}
	options := func(first string, cs []billing.Choice) []views.Option {
		out := []views.Option{{Value: "", Label: first}}
		for _, c := range cs {
			out = append(out, views.Option{Value: c.Value, Label: c.Label})
		}
		return out
	}
	v.Suppliers = options("Every supplier", mp.Month.Choices.Suppliers)
	v.CCGs = options("Every CCG", mp.Month.Choices.CCGs)
	v.Products = options("Every product", mp.Month.Choices.Products)

	total := mp.Count
	pages := max((total+reconLinesPerPage-1)/reconLinesPerPage, 1)
	keep := url.Values{}
	for k, val := range reconFilterValues(f) {
		if val != "" {
			keep.Set(k, val)
		}
	}
	v.Pager = views.Pager{Page: page, Pages: pages, Total: total, Query: keep, Path: "/reconciliation/" + p.String(),
		First: min(from+1, total), Last: min(from+reconLinesPerPage, total)}

	v.Page = s.page(r, "Reconciliation: "+p.Name(), views.Link{Label: "Dashboard", Href: "/"}, views.Link{Label: "Reconciliation", Href: "/reconciliation"})
	s.render(w, r, http.StatusOK, views.ReconciliationMonth(v))
	return nil
}

func reconTotal(label string, t billing.Totals) views.ReconTotalRow {
	return views.ReconTotalRow{Label: label, Payable: t.Payable.String(), Held: t.Held.String(),
		Adjustments: t.Adjustments.String(), Total: t.Total().String()}
}

func reconLineRow(p tracker.Period, l billing.Line) views.ReconLineRow {
	row := views.ReconLineRow{Ref: l.InstanceRef, Href: "/reconciliation/" + p.String() + "/lines/" + strconv.FormatInt(l.InstanceID, 10),
		Practice: l.PracticeName + " (" + l.PracticeCode + ")", Product: l.ProductName, Supplier: l.SupplierName,
		Kind: l.Kind, Days: "–", Amount: l.Amount.String(), State: l.State()}
	if l.Kind == billing.KindCharge && l.TimeUnit != "one-off" {
		row.Days = strconv.Itoa(l.DaysCharged) + " of " + strconv.Itoa(l.DaysInMonth)
	}
	if l.Corrects != nil {
		row.Corrects = l.Corrects.Format("January 2006")
	}
	return row
}

// reconciliationLine is one service's lines in a month, each explained.
func (s *Server) reconciliationLine(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	p, err := reconPeriod(r)
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(chi.URLParam(r, "instanceID"), 10, 64)
	if err != nil {
		return errNotFound
	}
	lines, err := s.billing.InstanceLines(ctx, p.First(), id)
	if err != nil {
		return err
	}
	if len(lines) == 0 {
		return apperr.New(apperr.NotFound, "Service %d has no line in %s", id, p.Name())
	}
	l0 := lines[0]
	v := views.ReconciliationLinePage{Period: p.String(), Name: p.Name(), MonthHref: "/reconciliation/" + p.String(),
		Ref: l0.InstanceRef, Source: l0.Source, CCG: l0.CCGName + " (" + l0.CCGCode + ")",
		Practice: l0.PracticeName + " (" + l0.PracticeCode + ")", Supplier: l0.SupplierName + " (" + l0.SupplierID + ")",
		Product:     l0.ProductName + " (" + l0.ProductID + "), " + l0.ProductType,
		ServiceHref: "/ccgs/" + l0.CCGCode + "/services/" + strconv.FormatInt(id, 10)}
	units, err := billing.UnitWord(ctx, s.pool, l0.Unit)
	if err != nil {
		return err
	}
	for _, l := range lines {
		unit := units
		if l.Charged.Quantity == 1 {
			unit = strings.TrimPrefix(l.Unit, "per ")
		}
		v.Lines = append(v.Lines, views.ReconExplained{Kind: strings.ToUpper(l.Kind[:1]) + l.Kind[1:], Amount: l.Amount.String(),
			State: l.State(), Explanation: explainLine(l, unit)})
	}
	v.Page = s.page(r, "Service "+l0.InstanceRef+", "+p.Name(),
		views.Link{Label: "Reconciliation", Href: "/reconciliation"}, views.Link{Label: p.Name(), Href: v.MonthHref})
	s.render(w, r, http.StatusOK, views.ReconciliationLine(v))
	return nil
}

// explainLine says in words how a line was made.
func explainLine(l billing.Line, unit string) string {
	switch l.Kind {
	case billing.KindRelease:
		s := "Amounts held in earlier months, released because M2"
		if l.M2 != nil {
			s += " was recorded on " + l.M2.Format("2 Jan 2006")
		}
		return s + " = " + l.Amount.String() + "; payable"
	case billing.KindAdjustment:
		dir := "a debit"
		if l.Amount < 0 {
			dir = "a credit"
		}
		return "Adjustment to " + l.Corrects.Format("January 2006") + " (closed): what the month comes to now, less what was billed in it, = " +
			l.Amount.String() + ", " + dir + "; " + l.State()
	}
	ch := billing.Charge{DaysCharged: l.DaysCharged, DaysInMonth: l.DaysInMonth, Amount: l.Amount, Payable: l.Payable, OneOff: l.Charged.TimeUnit == ""}
	return billing.Explain(l.Charged, ch, unit, l.Period)
}
