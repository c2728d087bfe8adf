package billing

import (
	"ccgtracker/internal/export"
	"ccgtracker/internal/money"
)

// ExportColumns are the columns of a month's export (DOMAIN.md §8), and
// the kind of line last.
var ExportColumns = []string{"Period", "Call-off ID or agreement", "CCG ODS code", "CCG name", "Practice ODS code", "Practice name",
	"Service instance ID", "Supplier ID", "Supplier name", "Product ID", "Product name", "Product type", "Unit of order", "Time unit",
	"Quantity", "Price (£)", "Days charged", "Days in month", "Amount (£)", "M1", "M2", "Cessation", "Payable or held",
	"Adjusted period", "Line"}

// ExportRow is a line as the export's cells, in ExportColumns' order.
func ExportRow(l Line) []export.Cell {
	corrects := ""
	if l.Corrects != nil {
		corrects = l.Corrects.Format("2006-01")
	}
	return []export.Cell{export.Str(l.Period.Format("2006-01")), export.Str(l.Source), export.Str(l.CCGCode), export.Str(l.CCGName),
		export.Str(l.PracticeCode), export.Str(l.PracticeName), export.Str(l.InstanceRef), export.Str(l.SupplierID), export.Str(l.SupplierName),
		export.Str(l.ProductID), export.Str(l.ProductName), export.Str(l.ProductType), export.Str(l.Unit), export.Str(l.TimeUnit),
		export.Int(l.Quantity), export.Money(l.Price), export.Int(l.DaysCharged), export.Int(l.DaysInMonth), export.Money(l.Amount),
		export.Date(l.ActualM1), export.Date(l.M2), export.Date(l.Cessation), export.Str(l.State()), export.Str(corrects), export.Str(l.Kind)}
}

// State is "payable" or "held".
func (l Line) State() string {
	if l.Payable {
		return "payable"
	}
	return "held"
}

// TotalsColumns head a totals table of the exports, after the code and
// name of the supplier or CCG.
var TotalsColumns = []string{"Payable (£)", "Held (£)", "Adjustments (£)", "Total (£)"}

// Total is payable, held and adjustments together.
func (t Totals) Total() money.Amount { return t.Payable + t.Held + t.Adjustments }

// TotalsRow is a totals table's row.
func TotalsRow(t Totals) []export.Cell {
	return []export.Cell{export.Str(t.Code), export.Str(t.Name), export.Money(t.Payable), export.Money(t.Held),
		export.Money(t.Adjustments), export.Money(t.Total())}
}
