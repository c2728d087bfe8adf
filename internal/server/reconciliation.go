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
	"github.com/xuri/excelize/v2"

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

// monthState describes a month in words, and whether it may be closed now
// (it has ended, is not closed, and is the first open month, or no month
// was ever closed).
func (s *Server) monthState(p tracker.Period, closed map[time.Time]billing.ClosedMonth, firstOpen *time.Time) (isClosed bool, state string, closable bool) {
	if c, ok := closed[p.First()]; ok {
		return true, "Closed on " + c.At.In(dates.London).Format("2 January 2006 at 15:04") + " by " + c.By, false
	}
	ended := !p.Next().First().After(dates.Today(s.now()))
	switch {
	case !ended:
		return false, "Not ended yet", false
	case firstOpen == nil || firstOpen.Equal(p.First()):
		return false, "Ended, ready to close", true
	case p.First().Before(*firstOpen):
		return false, "Before the first closed month", false
	default:
		return false, "Ended; earlier months close first", false
	}
}

// reconciliationIndex lists the last twelve months and the first open one,
// with the chart of the twelve months' totals by supplier.
func (s *Server) reconciliationIndex(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	closed, err := billing.ClosedMonths(ctx, s.pool)
	if err != nil {
		return err
	}
	firstOpen, err := billing.FirstOpen(ctx, s.pool)
	if err != nil {
		return err
	}
	this := tracker.PeriodOf(dates.Today(s.now()))
	var months []tracker.Period // newest first
	for m, i := this, 0; i < 12; m, i = m.Prev(), i+1 {
		months = append(months, m)
	}
	if firstOpen != nil {
		fo := tracker.PeriodOf(*firstOpen)
		if fo.First().Before(months[len(months)-1].First()) {
			months = append(months, fo)
		}
	}
	var v views.ReconciliationIndexView
	for _, m := range months {
		isClosed, state, closable := s.monthState(m, closed, firstOpen)
		rm := views.ReconMonth{Period: m.String(), Name: m.Name(), Href: "/reconciliation/" + m.String(), Closed: isClosed, State: state}
		if closable && currentUser(r).Role == auth.Finance {
			rm.CloseHref = "/reconciliation/" + m.String() + "/close"
		}
		v.Months = append(v.Months, rm)
	}
	if v.Chart, err = s.reconChart(ctx, months[:12]); err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, views.ReconciliationIndex(s.page(r, "Reconciliation", views.Link{Label: "Dashboard", Href: "/"}), v))
	return nil
}

// reconChart is each supplier's total (payable, held and adjustments) in
// each of the months (given newest first), the top suppliers by their
// twelve-month total drawn and the rest added up.
func (s *Server) reconChart(ctx context.Context, newestFirst []tracker.Period) (views.ReconChart, error) {
	months := slices.Clone(newestFirst)
	slices.Reverse(months)
	n := len(months)
	type supplier struct {
		name   string
		months []money.Amount
		total  money.Amount
	}
	bySupplier := map[string]*supplier{}
	for i, m := range months {
		sums, _, _, err := billing.Sums(ctx, s.pool, m.First(), billing.Filter{})
		if err != nil {
			return views.ReconChart{}, err
		}
		for _, t := range sums {
			sp, ok := bySupplier[t.Code]
			if !ok {
				sp = &supplier{name: t.Name, months: make([]money.Amount, n)}
				bySupplier[t.Code] = sp
			}
			sum := t.Payable + t.Held + t.Adjustments
			sp.months[i] += sum
			sp.total += sum
		}
	}
	var all []*supplier
	for _, sp := range bySupplier {
		all = append(all, sp)
	}
	slices.SortFunc(all, func(a, b *supplier) int {
		if a.total != b.total {
			if a.total > b.total {
				return -1
			}
			return 1
		}
		return strings.Compare(a.name, b.name)
	})
	if len(all) > reconChartSuppliers {
		other := &supplier{name: "Other suppliers (" + strconv.Itoa(len(all)-reconChartSuppliers+1) + ")", months: make([]money.Amount, n)}
		for _, sp := range all[reconChartSuppliers-1:] {
			for i, a := range sp.months {
				other.months[i] += a
			}
		}
		all = append(all[:reconChartSuppliers-1], other)
	}
	var top money.Amount
	for _, sp := range all {
		for _, a := range sp.months {
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
		series := views.ChartSeries{Name: sp.name}
		var amounts []string
		for _, a := range sp.months {
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
	f := billing.Filter{Supplier: q.Get("supplier"), CCG: q.Get("ccg"), Product: q.Get("product"), State: q.Get("state")}
	if f.State != "payable" && f.State != "held" {
		f.State = ""
	}
	return f
}

// reconKeeps is whether a line passes the filter, as billing's own
// filter decides.
func reconKeeps(f billing.Filter, l billing.Line) bool {
	return (f.Supplier == "" || l.SupplierID == f.Supplier) && (f.CCG == "" || l.CCGCode == f.CCG) &&
		(f.Product == "" || l.ProductID == f.Product) &&
		(f.State != "payable" || l.Payable) && (f.State != "held" || !l.Payable)
}

// reconciliationMonth is a month's totals by supplier and CCG and its
// lines, a page at a time, all narrowed by the filters.
func (s *Server) reconciliationMonth(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	p, err := reconPeriod(r)
	if err != nil {
		return err
	}
	closed, err := billing.ClosedMonths(ctx, s.pool)
	if err != nil {
		return err
	}
	firstOpen, err := billing.FirstOpen(ctx, s.pool)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f := reconFilter(q)
	v := views.ReconciliationMonthView{Period: p.String(), Name: p.Name(),
		CSVHref:  "/reconciliation/" + p.String() + ".csv",
		XLSXHref: "/reconciliation/" + p.String() + ".xlsx",
		Form:     views.Form{Values: map[string]string{"supplier": f.Supplier, "ccg": f.CCG, "product": f.Product, "state": f.State}},
		Filtered: f != (billing.Filter{}),
		States:   []views.Option{{Value: "", Label: "Payable and held"}, {Value: "payable", Label: "Payable"}, {Value: "held", Label: "Held"}},
	}
	var closable bool
	v.Closed, v.State, closable = s.monthState(p, closed, firstOpen)
	if closable && currentUser(r).Role == auth.Finance {
		v.CloseHref = "/reconciliation/" + p.String() + "/close"
	}

	bySupplier, byCCG, all, err := billing.Sums(ctx, s.pool, p.First(), f)
	if err != nil {
		return err
	}
	for _, t := range bySupplier {
		v.BySupplier = append(v.BySupplier, reconTotal(t.Name+" ("+t.Code+")", t))
	}
	for _, t := range byCCG {
		v.ByCCG = append(v.ByCCG, reconTotal(t.Name+" ("+t.Code+")", t))
	}
	v.Total = reconTotal("All", all)

	// One pass over the month: the filters' choices from every line, and
	// the page of lines that pass them.
	page, _ := strconv.Atoi(q.Get("page"))
	page = max(page, 1)
	from := (page - 1) * reconLinesPerPage
	seen := map[string]bool{}
	opt := func(list *[]views.Option, kind, value, label string) {
		if !seen[kind+value] {
			seen[kind+value] = true
			*list = append(*list, views.Option{Value: value, Label: label})
		}
	}
	var suppliers, ccgs, products []views.Option
	total := 0
	err = billing.Each(ctx, s.pool, p.First(), billing.Filter{}, func(l billing.Line) error {
		opt(&suppliers, "s", l.SupplierID, l.SupplierName+" ("+l.SupplierID+")")
		opt(&ccgs, "c", l.CCGCode, l.CCGName+" ("+l.CCGCode+")")
		opt(&products, "p", l.ProductID, l.ProductName+" ("+l.ProductID+")")
		if !reconKeeps(f, l) {
			return nil
		}
		if total >= from && total < from+reconLinesPerPage {
			v.Lines = append(v.Lines, reconLineRow(p, l))
		}
		total++
		return nil
	})
	if err != nil {
		return err
	}
	byLabel := func(a, b views.Option) int { return strings.Compare(a.Label, b.Label) }
	for _, o := range []*[]views.Option{&suppliers, &ccgs, &products} {
		slices.SortFunc(*o, byLabel)
	}
	v.Suppliers = append([]views.Option{{Value: "", Label: "Every supplier"}}, suppliers...)
	v.CCGs = append([]views.Option{{Value: "", Label: "Every CCG"}}, ccgs...)
	v.Products = append([]views.Option{{Value: "", Label: "Every product"}}, products...)

	pages := max((total+reconLinesPerPage-1)/reconLinesPerPage, 1)
	keep := url.Values{}
	for k, val := range map[string]string{"supplier": f.Supplier, "ccg": f.CCG, "product": f.Product, "state": f.State} {
		if val != "" {
			keep.Set(k, val)
		}
	}
	v.Pager = views.Pager{Page: page, Pages: pages, Total: total, Query: keep, Path: "/reconciliation/" + p.String(),
		First: min(from+1, total), Last: min(from+reconLinesPerPage, total)}

	s.render(w, r, http.StatusOK, views.ReconciliationMonth(s.page(r, "Reconciliation: "+p.Name(),
		views.Link{Label: "Dashboard", Href: "/"}, views.Link{Label: "Reconciliation", Href: "/reconciliation"}), v))
	return nil
}

func reconTotal(label string, t billing.Totals) views.ReconTotalRow {
	return views.ReconTotalRow{Label: label, Payable: t.Payable.String(), Held: t.Held.String(),
		Adjustments: t.Adjustments.String(), Total: (t.Payable + t.Held + t.Adjustments).String()}
}

func reconLineRow(p tracker.Period, l billing.Line) views.ReconLineRow {
	row := views.ReconLineRow{Ref: l.InstanceRef, Href: "/reconciliation/" + p.String() + "/lines/" + strconv.FormatInt(l.InstanceID, 10),
		Practice: l.PracticeName + " (" + l.PracticeCode + ")", Product: l.ProductName, Supplier: l.SupplierName,
		Kind: l.Kind, Days: "–", Amount: l.Amount.String(), State: payableOrHeld(l)}
	if l.Kind == billing.KindCharge && l.TimeUnit != "one-off" {
		row.Days = strconv.Itoa(l.DaysCharged) + " of " + strconv.Itoa(l.DaysInMonth)
	}
	if l.Corrects != nil {
		row.Corrects = l.Corrects.Format("January 2006")
	}
	return row
}

func payableOrHeld(l billing.Line) string {
	if l.Payable {
		return "payable"
	}
	return "held"
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
	var lines []billing.Line
	if err := billing.Each(ctx, s.pool, p.First(), billing.Filter{}, func(l billing.Line) error {
		if l.InstanceID == id {
			lines = append(lines, l)
		}
		return nil
	}); err != nil {
		return err
	}
	if len(lines) == 0 {
		return apperr.New(apperr.NotFound, "Service %d has no line in %s", id, p.Name())
	}
	l0 := lines[0]
	v := views.ReconciliationLineView{Period: p.String(), Name: p.Name(), MonthHref: "/reconciliation/" + p.String(),
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
			State: payableOrHeld(l), Explanation: explainLine(l, unit)})
	}
	s.render(w, r, http.StatusOK, views.ReconciliationLine(s.page(r, "Service "+l0.InstanceRef+", "+p.Name(),
		views.Link{Label: "Reconciliation", Href: "/reconciliation"}, views.Link{Label: p.Name(), Href: v.MonthHref}), v))
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
			l.Amount.String() + ", " + dir + "; " + payableOrHeld(l)
	}
	ch := billing.Charge{DaysCharged: l.DaysCharged, DaysInMonth: l.DaysInMonth, Amount: l.Amount, Payable: l.Payable, OneOff: l.Charged.TimeUnit == ""}
	return billing.Explain(l.Charged, ch, unit, l.Period)
}

// reconColumns are the export's columns (DOMAIN.md §8), and the kind of
// line last.
var reconColumns = []string{"Period", "Call-off ID or agreement", "CCG ODS code", "CCG name", "Practice ODS code", "Practice name",
	"Service instance ID", "Supplier ID", "Supplier name", "Product ID", "Product name", "Product type", "Unit of order", "Time unit",
	"Quantity", "Price (£)", "Days charged", "Days in month", "Amount (£)", "M1", "M2", "Cessation", "Payable or held",
	"Adjusted period", "Line"}

// reconCell is one cell of an export row: text (escaped when written) or a
// number the program formatted.
type reconCell struct {
	text   string
	number bool
}

// reconRow is a line as the export's cells, in reconColumns' order.
func reconRow(l billing.Line) []reconCell {
	str := func(s string) reconCell { return reconCell{text: s} }
	num := func(s string) reconCell { return reconCell{text: s, number: true} }
	day := func(t *time.Time) reconCell {
		if t == nil {
			return str("")
		}
		return str(t.Format("2006-01-02"))
	}
	corrects := ""
	if l.Corrects != nil {
		corrects = l.Corrects.Format("2006-01")
	}
	return []reconCell{str(l.Period.Format("2006-01")), str(l.Source), str(l.CCGCode), str(l.CCGName), str(l.PracticeCode), str(l.PracticeName),
		str(l.InstanceRef), str(l.SupplierID), str(l.SupplierName), str(l.ProductID), str(l.ProductName), str(l.ProductType), str(l.Unit), str(l.TimeUnit),
		num(strconv.Itoa(l.Quantity)), num(plainAmount(l.Price)), num(strconv.Itoa(l.DaysCharged)), num(strconv.Itoa(l.DaysInMonth)), num(plainAmount(l.Amount)),
		day(l.ActualM1), day(l.M2), day(l.Cessation), str(payableOrHeld(l)), str(corrects), str(l.Kind)}
}

// plainAmount prints an amount for a spreadsheet: pounds with two decimal
// places, or up to four where a price has them ("1.26", "-12.50", "0.0125").
func plainAmount(a money.Amount) string {
	d := a.Decimal()
	for range 2 {
		d = strings.TrimSuffix(d, "0")
	}
	if i := strings.IndexByte(d, '.'); len(d)-i < 3 {
		d += strings.Repeat("0", 3-(len(d)-i))
	}
	return d
}

// reconSums adds lines up by supplier and by CCG as they stream past, in
// the order each first appears, as billing.Sums does.
type reconSums struct {
	suppliers, ccgs map[string]*billing.Totals
	supOrder        []string
	ccgOrder        []string
}

func newReconSums() *reconSums {
	return &reconSums{suppliers: map[string]*billing.Totals{}, ccgs: map[string]*billing.Totals{}}
}

func (rs *reconSums) add(l billing.Line) {
	one := func(m map[string]*billing.Totals, order *[]string, code, name string) {
		t, ok := m[code]
		if !ok {
			t = &billing.Totals{Code: code, Name: name}
			m[code] = t
			*order = append(*order, code)
		}
		switch {
		case l.Kind == billing.KindAdjustment:
			t.Adjustments += l.Amount
		case l.Payable:
			t.Payable += l.Amount
		default:
			t.Held += l.Amount
		}
	}
	one(rs.suppliers, &rs.supOrder, l.SupplierID, l.SupplierName)
	one(rs.ccgs, &rs.ccgOrder, l.CCGCode, l.CCGName)
}

// reconTotalsColumns head the totals tables of the exports.
var reconTotalsColumns = []string{"Payable (£)", "Held (£)", "Adjustments (£)", "Total (£)"}

func reconTotalCells(t billing.Totals) []string {
	return []string{plainAmount(t.Payable), plainAmount(t.Held), plainAmount(t.Adjustments), plainAmount(t.Payable + t.Held + t.Adjustments)}
}

// exportHeaders starts an attachment download under a name the server
// chooses.
func exportHeaders(w http.ResponseWriter, contentType, name string) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
}

// abortDownload ends a download that failed after it started: the status
// is sent, so the connection is cut rather than a partial file looking
// whole.
func (s *Server) abortDownload(r *http.Request, err error) {
	s.log.ErrorContext(r.Context(), "export failed", "path", r.URL.Path, "err", err)
	panic(http.ErrAbortHandler)
}

// reconciliationCSV streams the month as CSV, row by row as the lines are
// read, then the totals by supplier and by CCG after a blank row.
func (s *Server) reconciliationCSV(w http.ResponseWriter, r *http.Request) error {
	p, err := reconPeriod(r)
	if err != nil {
		return err
	}
	exportHeaders(w, "text/csv; charset=utf-8", "reconciliation-"+p.String()+".csv")
	if r.Method == http.MethodHead {
		return nil
	}
	return s.withDownloadSlot(r.Context(), func() error { return s.streamReconCSV(w, r, p) })
}

// streamReconCSV writes the CSV. The status goes first, so the session is
// settled before the lines' query takes a connection for the stream.
func (s *Server) streamReconCSV(w http.ResponseWriter, r *http.Request, p tracker.Period) error {
	w.WriteHeader(http.StatusOK)
	c := export.NewCSV(newStreamWriter(w))
	sums := newReconSums()
	err := c.Text(reconColumns...)
	if err == nil {
		err = billing.Each(r.Context(), s.pool, p.First(), billing.Filter{}, func(l billing.Line) error {
			sums.add(l)
			cells := reconRow(l)
			row := make([]export.Cell, len(cells))
			for i, cell := range cells {
				if cell.number {
					row[i] = export.Num(cell.text)
				} else {
					row[i] = export.Str(cell.text)
				}
			}
			return c.Row(row...)
		})
	}
	totals := func(title, head string, order []string, m map[string]*billing.Totals) error {
		if err := c.Text(); err != nil {
			return err
		}
		if err := c.Text(title); err != nil {
			return err
		}
		if err := c.Text(append([]string{head + " code", head + " name"}, reconTotalsColumns...)...); err != nil {
			return err
		}
		for _, code := range order {
			t := m[code]
			cells := []export.Cell{export.Str(t.Code), export.Str(t.Name)}
			for _, a := range reconTotalCells(*t) {
				cells = append(cells, export.Num(a))
			}
			if err := c.Row(cells...); err != nil {
				return err
			}
		}
		return nil
	}
	if err == nil {
		err = totals("Totals by supplier", "Supplier", sums.supOrder, sums.suppliers)
	}
	if err == nil {
		err = totals("Totals by CCG", "CCG", sums.ccgOrder, sums.ccgs)
	}
	if err == nil {
		err = c.Flush()
	}
	if err != nil {
		s.abortDownload(r, err)
	}
	return nil
}

// The sheets of the XLSX export.
const (
	reconSheetLines     = "Lines"
	reconSheetSuppliers = "Totals by supplier"
	reconSheetCCGs      = "Totals by CCG"
)

// reconciliationXLSX streams the month as a workbook through excelize's
// stream writer: the lines on one sheet, the totals on two more.
func (s *Server) reconciliationXLSX(w http.ResponseWriter, r *http.Request) error {
	p, err := reconPeriod(r)
	if err != nil {
		return err
	}
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName("Sheet1", reconSheetLines); err != nil {
		return err
	}
	for _, name := range []string{reconSheetSuppliers, reconSheetCCGs} {
		if _, err := f.NewSheet(name); err != nil {
			return err
		}
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return err
	}
	head := func(cols []string) []any {
		out := make([]any, len(cols))
		for i, c := range cols {
			out[i] = export.SafeText(c)
		}
		return out
	}
	sw, err := f.NewStreamWriter(reconSheetLines)
	if err != nil {
		return err
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	if err := sw.SetRow("A1", head(reconColumns), excelize.RowOpts{StyleID: bold}); err != nil {
		return err
	}
	sums := newReconSums()
	n := 1
	err = billing.Each(r.Context(), s.pool, p.First(), billing.Filter{}, func(l billing.Line) error {
		sums.add(l)
		n++
		cells := reconRow(l)
		row := make([]any, len(cells))
		for i, cell := range cells {
			row[i] = xlsxCell(cell)
		}
		return sw.SetRow("A"+strconv.Itoa(n), row)
	})
	if err != nil {
		return err
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	totals := func(sheet, headWord string, order []string, m map[string]*billing.Totals) error {
		tw, err := f.NewStreamWriter(sheet)
		if err != nil {
			return err
		}
		if err := tw.SetRow("A1", head(append([]string{headWord + " code", headWord + " name"}, reconTotalsColumns...)), excelize.RowOpts{StyleID: bold}); err != nil {
			return err
		}
		for i, code := range order {
			t := m[code]
			row := []any{export.SafeText(t.Code), export.SafeText(t.Name)}
			for _, a := range reconTotalCells(*t) {
				row = append(row, xlsxCell(reconCell{text: a, number: true}))
			}
			if err := tw.SetRow("A"+strconv.Itoa(i+2), row); err != nil {
				return err
			}
		}
		return tw.Flush()
	}
	if err := totals(reconSheetSuppliers, "Supplier", sums.supOrder, sums.suppliers); err != nil {
		return err
	}
	if err := totals(reconSheetCCGs, "CCG", sums.ccgOrder, sums.ccgs); err != nil {
		return err
	}
	f.SetActiveSheet(0)
	exportHeaders(w, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "reconciliation-"+p.String()+".xlsx")
	if r.Method == http.MethodHead {
		return nil
	}
	return s.withDownloadSlot(r.Context(), func() error {
		w.WriteHeader(http.StatusOK)
		if err := f.Write(newStreamWriter(w)); err != nil {
			s.abortDownload(r, err)
		}
		return nil
	})
}

// xlsxCell is a cell's value for excelize: numbers as numbers (excelize
// writes a float's shortest form, so "392.55" stays 392.55), text escaped.
func xlsxCell(c reconCell) any {
	if c.number {
		if n, err := strconv.ParseFloat(c.text, 64); err == nil {
			return n
		}
	}
	return export.SafeText(c.text)
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
	v := views.ReconCloseView{Period: p.String(), Name: p.Name(), MonthHref: "/reconciliation/" + p.String()}
	if refusal == "" {
		closed, err := billing.ClosedMonths(ctx, s.pool)
		if err != nil {
			return err
		}
		firstOpen, err := billing.FirstOpen(ctx, s.pool)
		if err != nil {
			return err
		}
		switch isClosed, _, closable := s.monthState(p, closed, firstOpen); {
		case isClosed:
			refusal = p.Name() + " is closed already."
		case !p.Next().First().After(dates.Today(s.now())) && !closable:
			refusal = "Months close in order: close " + firstOpen.Format("January 2006") + " first."
		case !closable:
			refusal = p.Name() + " has not ended yet, so it cannot be closed."
		}
	} else {
		v.Form = views.Form{Errors: []views.FieldError{{Field: "refusal", Message: refusal}}}
	}
	v.Refusal = refusal
	var n int
	_, _, all, err := billing.Sums(ctx, s.pool, p.First(), billing.Filter{})
	if err != nil {
		return err
	}
	if err := billing.Each(ctx, s.pool, p.First(), billing.Filter{}, func(billing.Line) error { n++; return nil }); err != nil {
		return err
	}
	v.Lines = views.Number(n) + " " + pluralLines(n)
	v.Total = (all.Payable + all.Held + all.Adjustments).String()
	s.render(w, r, status, views.ReconciliationClose(s.page(r, "Close "+p.Name(),
		views.Link{Label: "Reconciliation", Href: "/reconciliation"}, views.Link{Label: p.Name(), Href: v.MonthHref}), v))
	return nil
}

func pluralLines(n int) string {
	if n == 1 {
		return "line"
	}
	return "lines"
}

// reconciliationClose closes the month (billing.Close records it in the
// audit log); a refusal is shown on the confirmation page in words.
func (s *Server) reconciliationClose(w http.ResponseWriter, r *http.Request) error {
	p, err := reconPeriod(r)
	if err != nil {
		return err
	}
	u := currentUser(r)
	n, err := billing.Close(r.Context(), s.pool, s.now(), &u.ID, p.First())
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
