package server

import (
	"context"
	"io"
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
	"ccgtracker/internal/export"
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

// exportHeaders starts an attachment download under a name the server
// chooses, and sends the status before any line is read: whatever the
// session middleware does at the first write is done before the export
// holds a connection (or holds none: an open month streams from memory).
func exportHeaders(w http.ResponseWriter, contentType, name string) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
}

// abortDownload ends a download that failed after it started: the status
// is sent, so the connection is cut rather than a partial file looking
// whole.
func (s *Server) abortDownload(r *http.Request, err error) {
	s.log.ErrorContext(r.Context(), "export failed", "path", r.URL.Path, "err", err)
	panic(http.ErrAbortHandler)
}

// reconciliationCSV streams the month as CSV, row by row, then the totals
// by supplier and by CCG after a blank row.
func (s *Server) reconciliationCSV(w http.ResponseWriter, r *http.Request) error {
	p, err := reconPeriod(r)
	if err != nil {
		return err
	}
	exportHeaders(w, "text/csv; charset=utf-8", "reconciliation-"+p.String()+".csv")
	if r.Method == http.MethodHead {
		return nil
	}
	return s.withDownloadSlot(r.Context(), func() error {
		if err := s.writeReconCSV(r.Context(), newStreamWriter(w), p); err != nil {
			s.abortDownload(r, err)
		}
		return nil
	})
}

func (s *Server) writeReconCSV(ctx context.Context, w io.Writer, p tracker.Period) error {
	m, err := s.billing.Month(ctx, p.First())
	if err != nil {
		return err
	}
	c := export.NewCSV(w)
	if err := c.Text(billing.ExportColumns...); err != nil {
		return err
	}
	if err := s.billing.EachLine(ctx, m, func(l billing.Line) error { return c.Row(billing.ExportRow(l)...) }); err != nil {
		return err
	}
	for _, t := range []struct {
		title, head string
		rows        []billing.Totals
	}{{"Totals by supplier", "Supplier", m.BySupplier}, {"Totals by CCG", "CCG", m.ByCCG}} {
		if err := c.Text(); err != nil {
			return err
		}
		if err := c.Text(t.title); err != nil {
			return err
		}
		if err := c.Text(append([]string{t.head + " code", t.head + " name"}, billing.TotalsColumns...)...); err != nil {
			return err
		}
		for _, row := range t.rows {
			if err := c.Row(billing.TotalsRow(row)...); err != nil {
				return err
			}
		}
	}
	return c.Flush()
}

// The sheets of the XLSX export.
const (
	reconSheetLines     = "Lines"
	reconSheetSuppliers = "Totals by supplier"
	reconSheetCCGs      = "Totals by CCG"
)

// reconciliationXLSX streams the month as a workbook, written once as
// the lines pass: the lines on one sheet, the totals on two more.
func (s *Server) reconciliationXLSX(w http.ResponseWriter, r *http.Request) error {
	p, err := reconPeriod(r)
	if err != nil {
		return err
	}
	exportHeaders(w, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "reconciliation-"+p.String()+".xlsx")
	if r.Method == http.MethodHead {
		return nil
	}
	return s.withDownloadSlot(r.Context(), func() error {
		if err := s.writeReconXLSX(r.Context(), newStreamWriter(w), p); err != nil {
			s.abortDownload(r, err)
		}
		return nil
	})
}

func (s *Server) writeReconXLSX(ctx context.Context, w io.Writer, p tracker.Period) error {
	m, err := s.billing.Month(ctx, p.First())
	if err != nil {
		return err
	}
	x, err := export.NewXLSX(w, reconSheetLines, reconSheetSuppliers, reconSheetCCGs)
	if err != nil {
		return err
	}
	if err := x.Sheet(m.Count, len(billing.ExportColumns)); err != nil {
		return err
	}
	if err := x.Head(billing.ExportColumns...); err != nil {
		return err
	}
	if err := s.billing.EachLine(ctx, m, func(l billing.Line) error { return x.Row(billing.ExportRow(l)...) }); err != nil {
		return err
	}
	for _, t := range []struct {
		head string
		rows []billing.Totals
	}{{"Supplier", m.BySupplier}, {"CCG", m.ByCCG}} {
		head := append([]string{t.head + " code", t.head + " name"}, billing.TotalsColumns...)
		if err := x.Sheet(len(t.rows), len(head)); err != nil {
			return err
		}
		if err := x.Head(head...); err != nil {
			return err
		}
		for _, row := range t.rows {
			if err := x.Row(billing.TotalsRow(row)...); err != nil {
				return err
			}
		}
	}
	return x.Close()
}

// reconciliationCloseForm asks finance to confirm closing the month, or
// says why it cannot be closed.
func (s *Server) reconciliationCloseForm(w http.ResponseWriter, r *http.Request) error {
	p, err := reconPeriod(r)
	if err != nil {
		return err
	}
	return s.renderClose(w, r, p, http.StatusOK, "")
}

func (s *Server) renderClose(w http.ResponseWriter, r *http.Request, p tracker.Period, status int, refusal string) error {
	ctx := r.Context()
	v := views.ReconciliationClosePage{Period: p.String(), Name: p.Name(), MonthHref: "/reconciliation/" + p.String()}
	if refusal == "" {
		st, err := billing.ReadStatus(ctx, s.pool)
		if err != nil {
			return err
		}
		refusal = st.State(p.First(), dates.Today(s.now())).Refusal
	} else {
		v.Form = views.Form{Errors: []views.FieldError{{Field: views.CloseRefusalID, Message: refusal}}}
	}
	v.Refusal = refusal
	m, err := s.billing.Month(ctx, p.First())
	if err != nil {
		return err
	}
	v.Lines = views.Number(m.Count) + " " + pluralLines(m.Count)
	v.Total = m.All.Total().String()
	v.Page = s.page(r, "Close "+p.Name(), views.Link{Label: "Reconciliation", Href: "/reconciliation"}, views.Link{Label: p.Name(), Href: v.MonthHref})
	s.render(w, r, status, views.ReconciliationClose(v))
	return nil
}

func pluralLines(n int) string {
	if n == 1 {
		return "line"
	}
	return "lines"
}

// reconciliationClose closes the month (billing's Close records it in the
// audit log); a refusal is shown on the confirmation page in words.
func (s *Server) reconciliationClose(w http.ResponseWriter, r *http.Request) error {
	p, err := reconPeriod(r)
	if err != nil {
		return err
	}
	u := currentUser(r)
	n, err := s.billing.Close(r.Context(), u.Actor(), p.First())
	if code := apperr.CodeOf(err); err != nil && (code == apperr.Invalid || code == apperr.Conflict) {
		status := http.StatusBadRequest
		if code == apperr.Conflict {
			status = http.StatusConflict
		}
		return s.renderClose(w, r, p, status, apperr.MessageOf(err))
	}
	if err != nil {
		return err
	}
	s.flash(r.Context(), p.Name()+" is closed: its "+views.Number(n)+" "+pluralLines(n)+" are frozen.")
	return redirect(w, r, "/reconciliation/"+p.String())
}
