package order

import (
	"io"
	"strconv"

	"ccgtracker/internal/export"
	"ccgtracker/internal/org"
)

// csvHeader is the finance layout: one row per item × recipient.
var csvHeader = []string{
	"Call-off ID", "CCG ODS code", "CCG name", "Practice ODS code", "Practice name", "Supplier ID", "Supplier name",
	"Product ID", "Product name", "Product type", "Unit of order", "Time unit", "Quantity", "Price", "Planned delivery date",
	"Funding type", "Added in revision",
}

// WriteCSV writes the order in the finance layout: one row per item ×
// recipient, every text cell safe from formula injection.
func WriteCSV(w io.Writer, o Order) error {
	out := export.NewCSV(w)
	if err := out.Text(csvHeader...); err != nil {
		return err
	}
	for _, it := range o.Items {
		timeUnit := it.TimeUnit
		if timeUnit == "" {
			timeUnit = "one-off"
		}
		for _, r := range it.Recipients {
			delivery := ""
			if r.PlannedDelivery != nil {
				delivery = r.PlannedDelivery.Format("2006-01-02")
			}
			if err := out.Row(
				export.Str(o.CallOffID()), export.Str(o.CCGCode), export.Str(o.CCGName),
				export.Str(r.PracticeCode), export.Str(r.PracticeName), export.Str(o.SupplierID), export.Str(o.SupplierName),
				export.Str(it.CatalogueItemID), export.Str(it.Name), export.Str(org.KindName(it.Kind)),
				export.Str(it.PricingUnitDescription), export.Str(timeUnit), export.Num(strconv.Itoa(r.Quantity)),
				export.Num(it.UnitPrice.Decimal()), export.Str(delivery), export.Str(it.FundingType),
				export.Num(strconv.Itoa(r.AddedInRevision)),
			); err != nil {
				return err
			}
		}
	}
	return out.Flush()
}
