package views

// The filters of a month's reconciliation, in its query string.
const (
	ReconSupplierFilter = "supplier"
	ReconCCGFilter      = "ccg"
	ReconProductFilter  = "product"
	ReconStateFilter    = "state"
)

// CloseRefusalID is where the close page says why a month cannot be
// closed: its error summary links there.
const CloseRefusalID = "refusal"

// ReconciliationIndexPage is the list of months finance reconciles: the
// last twelve and the first open one, each open or closed, and a chart of
// the twelve months' totals by supplier.
type ReconciliationIndexPage struct {
	Page   Page
	Months []ReconMonth
	Chart  ReconChart
}

// ReconMonth is one month of the list.
type ReconMonth struct {
	Period, Name, Href string
	Closed             bool
	State              string // "Closed on 3 December 2026 by Fiona Finance", "Open", "Open (not ended)"
	CloseHref          string // "" when the month cannot be closed now
}

// ReconChart is a line chart of each supplier's total by month (payable,
// held and adjustments together), its figures in a table after it.
type ReconChart struct {
	Title, Description string
	Months             []ChartMonth
	// Series carries each supplier's totals scaled to 0–100 of the top of
	// the scale, so the performance chart's drawing serves; Amounts the
	// same totals in pounds, a row per series and a column per month.
	Series  []ChartSeries
	Amounts [][]string
	// TickLabels label the gridlines at 0, 25, 50, 75 and 100% of the
	// scale.
	TickLabels []string
}

// reconTicks are the chart's gridlines, labelled in pounds.
func reconTicks(c ReconChart) []chartTick {
	var out []chartTick
	for i, l := range c.TickLabels {
		out = append(out, chartTick{chartY(i * 25), l})
	}
	return out
}

// ReconciliationMonthPage is one month: totals by supplier and CCG, the
// filters (Form, by the Recon…Filter names), and the lines, a page at a
// time.
type ReconciliationMonthPage struct {
	Page            Page
	Period, Name    string
	Closed          bool
	State           string
	CloseHref       string
	CSVHref         string
	XLSXHref        string
	Form            Form
	Suppliers, CCGs []Option
	Products        []Option
	States          []Option
	Filtered        bool
	BySupplier      []ReconTotalRow
	ByCCG           []ReconTotalRow
	Total           ReconTotalRow
	Lines           []ReconLineRow
	Pager           Pager
}

// ReconTotalRow is a supplier's or a CCG's sums, printed.
type ReconTotalRow struct {
	Label                             string
	Payable, Held, Adjustments, Total string
}

// ReconLineRow is one line of the month, printed.
type ReconLineRow struct {
	Ref, Href, Practice, Product, Supplier string
	Kind, Days, Amount, State, Corrects    string
}

// ReconciliationLinePage is one service instance's lines in a month, each
// explained in words.
type ReconciliationLinePage struct {
	Page                    Page
	Period, Name, MonthHref string
	Ref, Source             string
	CCG, Practice           string
	Supplier, Product       string
	ServiceHref             string
	Lines                   []ReconExplained
}

// ReconExplained is one line and how it was worked out.
type ReconExplained struct {
	Kind, Amount, State, Explanation string
}

// ReconciliationClosePage is the confirmation before closing a month;
// Refusal says in words why it cannot be closed (then there is no button).
type ReconciliationClosePage struct {
	Page                    Page
	Period, Name, MonthHref string
	Lines, Total            string
	Refusal                 string
	Form                    Form
}
