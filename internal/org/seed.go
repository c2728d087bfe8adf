package org

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"ccgtracker/internal/money"
)

// regionDueDays spreads returns over the month, one default day per region
// (DOMAIN.md §6). Keyed by region name as the NHS Digital map spells it.
var regionDueDays = map[string]int{
	"London":                   8,
	"South East":               10,
	"South West":               12,
	"East of England":          14,
	"Midlands":                 16,
	"North West":               18,
	"North East and Yorkshire": 20,
}

// SeedCounts says how many rows the seed added to each table; a second seed
// of the same files adds none.
type SeedCounts struct {
	Regions, CCGs, Practices, Suppliers, Frameworks, PricingUnits, Items, Prices, FrameworkItems, FundingTypes int64
}

func (c SeedCounts) String() string {
	return fmt.Sprintf("regions %d, CCGs %d, practices %d, suppliers %d, frameworks %d, pricing units %d, catalogue items %d, prices %d, framework solutions %d, funding types %d",
		c.Regions, c.CCGs, c.Practices, c.Suppliers, c.Frameworks, c.PricingUnits, c.Items, c.Prices, c.FrameworkItems, c.FundingTypes)
}

// SeedReference loads the reference data from the files of refdata.FS into
// tx. Rows already present are left as they are (an admin's due-day
// override, an ODS import's close date), so seeding is idempotent.
func SeedReference(ctx context.Context, tx pgx.Tx, files fs.FS) (SeedCounts, error) {
	var c SeedCounts
	steps := []struct {
		name string
		fn   func() error
	}{
		{"organisations", func() error { return seedOrganisations(ctx, tx, files, &c) }},
		{"catalogue", func() error { return seedCatalogue(ctx, tx, files, &c) }},
	}
	for _, s := range steps {
		if err := s.fn(); err != nil {
			return c, fmt.Errorf("seed %s: %w", s.name, err)
		}
	}
	return c, nil
}

// readCSV reads a headed CSV file into maps keyed by column name, refusing a
// file that lacks any of the wanted columns.
func readCSV(files fs.FS, name string, want ...string) ([]map[string]string, error) {
	f, err := files.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	header, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: header: %w", name, err)
	}
	header[0] = strings.TrimPrefix(header[0], "\ufeff")
	index := map[string]int{}
	for i, h := range header {
		index[strings.TrimSpace(h)] = i
	}
	for _, w := range want {
		if _, ok := index[w]; !ok {
			return nil, fmt.Errorf("%s: no column %q", name, w)
		}
	}
	var out []map[string]string
	for line := 2; ; line++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		row := make(map[string]string, len(want))
		for _, w := range want {
			row[w] = strings.TrimSpace(rec[index[w]])
		}
		out = append(out, row)
	}
}

func seedOrganisations(ctx context.Context, tx pgx.Tx, files fs.FS, c *SeedCounts) error {
	rows, err := readCSV(files, "gp-reg-pat-prac-map.csv",
		"PRACTICE_CODE", "PRACTICE_NAME", "PRACTICE_POSTCODE", "PCN_CODE", "PCN_NAME",
		"CCG_CODE", "CCG_NAME", "STP_CODE", "STP_NAME", "COMM_REGION_CODE", "COMM_REGION_NAME")
	if err != nil {
		return err
	}
	sizes, err := readCSV(files, "gp-reg-pat-prac-all.csv", "CODE", "NUMBER_OF_PATIENTS", "EXTRACT_DATE")
	if err != nil {
		return err
	}
	listSize := map[string]string{}
	var listDate string
	for _, s := range sizes {
		listSize[s["CODE"]] = s["NUMBER_OF_PATIENTS"]
		listDate = s["EXTRACT_DATE"]
	}
	sizeDate, err := time.Parse("02Jan2006", titleMonth(listDate))
	if err != nil {
		return fmt.Errorf("gp-reg-pat-prac-all.csv: extract date %q: %w", listDate, err)
	}
	openDates, err := epraccurOpenDates(files)
	if err != nil {
		return err
	}

	var regionCodes, regionNames []string
	var regionDays []int
	var ccgCodes, ccgNames, ccgRegions, stpCodes, stpNames []string
	seenRegion, seenCCG := map[string]bool{}, map[string]bool{}
	var pCodes, pNames, pPostcodes, pCCGs, pPCNs, pPCNNames []string
	var pOpen []*time.Time
	var pSizes []*string
	for _, r := range rows {
		if !seenRegion[r["COMM_REGION_CODE"]] {
			seenRegion[r["COMM_REGION_CODE"]] = true
			day, ok := regionDueDays[r["COMM_REGION_NAME"]]
			if !ok {
				return fmt.Errorf("region %s %q has no default due day", r["COMM_REGION_CODE"], r["COMM_REGION_NAME"])
			}
			regionCodes, regionNames, regionDays = append(regionCodes, r["COMM_REGION_CODE"]), append(regionNames, r["COMM_REGION_NAME"]), append(regionDays, day)
		}
		if !seenCCG[r["CCG_CODE"]] {
			seenCCG[r["CCG_CODE"]] = true
			ccgCodes, ccgNames, ccgRegions = append(ccgCodes, r["CCG_CODE"]), append(ccgNames, r["CCG_NAME"]), append(ccgRegions, r["COMM_REGION_CODE"])
			stpCodes, stpNames = append(stpCodes, r["STP_CODE"]), append(stpNames, r["STP_NAME"])
		}
		code := r["PRACTICE_CODE"]
		pCodes, pNames, pPostcodes = append(pCodes, code), append(pNames, r["PRACTICE_NAME"]), append(pPostcodes, r["PRACTICE_POSTCODE"])
		pCCGs, pPCNs, pPCNNames = append(pCCGs, r["CCG_CODE"]), append(pPCNs, r["PCN_CODE"]), append(pPCNNames, r["PCN_NAME"])
		pOpen = append(pOpen, openDates[code])
		if s, ok := listSize[code]; ok {
			pSizes = append(pSizes, &s)
		} else {
			pSizes = append(pSizes, nil)
		}
	}

	tag, err := tx.Exec(ctx, `
		INSERT INTO regions (code, name, due_day)
		SELECT * FROM unnest($1::text[], $2::text[], $3::int[])
		ON CONFLICT (code) DO NOTHING`, regionCodes, regionNames, regionDays)
	if err != nil {
		return fmt.Errorf("regions: %w", err)
	}
	c.Regions = tag.RowsAffected()
	tag, err = tx.Exec(ctx, `
		INSERT INTO ccgs (code, name, region_code, stp_code, stp_name)
		SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])
		ON CONFLICT (code) DO NOTHING`, ccgCodes, ccgNames, ccgRegions, stpCodes, stpNames)
	if err != nil {
		return fmt.Errorf("CCGs: %w", err)
	}
	c.CCGs = tag.RowsAffected()
	tag, err = tx.Exec(ctx, `
		INSERT INTO practices (code, name, postcode, ccg_code, pcn_code, pcn_name, open_date, list_size, list_size_date)
		SELECT code, name, postcode, ccg, pcn, pcn_name, open_date, size::int, CASE WHEN size IS NOT NULL THEN $9::date END
		FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::date[], $8::text[])
		     AS t(code, name, postcode, ccg, pcn, pcn_name, open_date, size)
		ON CONFLICT (code) DO NOTHING`,
		pCodes, pNames, pPostcodes, pCCGs, pPCNs, pPCNNames, pOpen, pSizes, sizeDate)
	if err != nil {
		return fmt.Errorf("practices: %w", err)
	}
	c.Practices = tag.RowsAffected()
	// The seeded size is the practices' first extract (issue 13): billing
	// reads the size in force from the extracts.
	if _, err := tx.Exec(ctx, `
		INSERT INTO practice_list_sizes (practice_code, extract_date, size)
		SELECT code, list_size_date, list_size FROM practices WHERE list_size IS NOT NULL AND list_size_date IS NOT NULL
		ON CONFLICT DO NOTHING`); err != nil {
		return fmt.Errorf("first list-size extract: %w", err)
	}
	return nil
}

// titleMonth turns "01JAN2021" into "01Jan2021", which time.Parse reads.
func titleMonth(s string) string {
	if len(s) != 9 {
		return s
	}
	return s[:3] + strings.ToLower(s[3:5]) + s[5:]
}

// epraccurOpenDates reads each practice's open date from the ODS file: the
// 2022 map has none, and return dates are checked against it.
func epraccurOpenDates(files fs.FS) (map[string]*time.Time, error) {
	f, err := files.Open("epraccur.csv")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	recs, errs := ParseODS(f)
	if len(errs) > 0 {
		return nil, fmt.Errorf("epraccur.csv: %v", errs[0])
	}
	out := make(map[string]*time.Time, len(recs))
	for _, r := range recs {
		out[r.Code] = r.OpenDate
	}
	return out, nil
}

var provisioningTypes = map[string]string{"1": "patient", "2": "declarative", "3": "on demand", "4": "declarative"}
var calculationTypes = map[string]string{"1": "single fixed", "2": "cumulative", "3": "volume"}
var timeUnits = map[string]string{"1": "month", "2": "year", "": ""}
var itemKinds = map[string]string{"1": KindSolution, "2": KindAdditional, "3": KindAssociated}

func seedCatalogue(ctx context.Context, tx pgx.Tx, files fs.FS, c *SeedCounts) error {
	exec := func(count *int64, what, sql string, args ...any) error {
		tag, err := tx.Exec(ctx, sql, args...)
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		*count += tag.RowsAffected()
		return nil
	}

	suppliers, err := readCSV(files, "suppliers.csv", "Id", "Name", "LegalName", "Summary", "SupplierUrl", "Deleted")
	if err != nil {
		return err
	}
	for _, s := range suppliers {
		if err := exec(&c.Suppliers, "supplier "+s["Id"], `
			INSERT INTO suppliers (id, name, legal_name, summary, url, deleted) VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (id) DO NOTHING`,
			s["Id"], s["Name"], s["LegalName"], s["Summary"], s["SupplierUrl"], s["Deleted"] == "1"); err != nil {
			return err
		}
	}

	frameworks, err := readCSV(files, "frameworks.csv", "Id", "Name", "ShortName", "Owner", "IsExpired", "MaximumTerm")
	if err != nil {
		return err
	}
	for _, f := range frameworks {
		if err := exec(&c.Frameworks, "framework "+f["Id"], `
			INSERT INTO frameworks (id, name, short_name, owner, expired, maximum_term) VALUES ($1, $2, $3, $4, $5, $6::smallint)
			ON CONFLICT (id) DO NOTHING`,
			f["Id"], f["Name"], f["ShortName"], f["Owner"], f["IsExpired"] == "1", f["MaximumTerm"]); err != nil {
			return err
		}
	}

	units, err := readCSV(files, "pricing_units.csv", "Id", "Name", "RangeDescription", "Description")
	if err != nil {
		return err
	}
	for _, u := range units {
		if err := exec(&c.PricingUnits, "pricing unit "+u["Id"], `
			INSERT INTO pricing_units (id, name, range_description, description) VALUES ($1::int, $2, $3, $4)
			ON CONFLICT (id) DO NOTHING`, u["Id"], u["Name"], u["RangeDescription"], u["Description"]); err != nil {
			return err
		}
	}

	items, err := readCSV(files, "catalogue_items.csv", "Id", "Name", "CatalogueItemTypeId", "SupplierId", "PublishedStatusId", "Created")
	if err != nil {
		return err
	}
	// Solutions first, so an Additional Service's parent is always there.
	for _, pass := range []bool{true, false} {
		for _, it := range items {
			kind, ok := itemKinds[it["CatalogueItemTypeId"]]
			if !ok {
				return fmt.Errorf("catalogue item %s: unknown type %q", it["Id"], it["CatalogueItemTypeId"])
			}
			if (kind == KindSolution) != pass {
				continue
			}
			var parent *string
			if kind == KindAdditional {
				p, _, _ := strings.Cut(it["Id"], "A")
				parent = &p
			}
			var created *string
			if at := it["Created"]; at != "" {
				created = &at
			}
			if err := exec(&c.Items, "catalogue item "+it["Id"], `
				INSERT INTO catalogue_items (id, name, kind, supplier_id, parent_id, published, created_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7::timestamp AT TIME ZONE 'UTC')
				ON CONFLICT (id) DO NOTHING`,
				it["Id"], it["Name"], kind, it["SupplierId"], parent, it["PublishedStatusId"] == "3", created); err != nil {
				return err
			}
		}
	}

	prices, err := readCSV(files, "catalogue_prices.csv", "CataloguePriceId", "CatalogueItemId", "ProvisioningTypeId",
		"PricingUnitId", "TimeUnitId", "CataloguePriceCalculationTypeId", "CurrencyCode", "Price", "PublishedStatusId")
	if err != nil {
		return err
	}
	for _, p := range prices {
		amount, err := money.Parse(p["Price"])
		if err != nil {
			return fmt.Errorf("price %s: %w", p["CataloguePriceId"], err)
		}
		var timeUnit *string
		if tu := timeUnits[p["TimeUnitId"]]; tu != "" {
			timeUnit = &tu
		}
		if err := exec(&c.Prices, "price "+p["CataloguePriceId"], `
			INSERT INTO catalogue_prices (id, item_id, provisioning_type, pricing_unit_id, time_unit, calculation_type, price, currency, published)
			VALUES ($1::int, $2, $3, $4::int, $5, $6, $7::numeric, $8, $9)
			ON CONFLICT (id) DO NOTHING`,
			p["CataloguePriceId"], p["CatalogueItemId"], provisioningTypes[p["ProvisioningTypeId"]], p["PricingUnitId"],
			timeUnit, calculationTypes[p["CataloguePriceCalculationTypeId"]], amount.Decimal(), p["CurrencyCode"],
			p["PublishedStatusId"] == "3"); err != nil {
			return err
		}
	}

	fsol, err := readCSV(files, "framework_solutions.csv", "FrameworkId", "SolutionId", "IsFoundation")
	if err != nil {
		return err
	}
	for _, f := range fsol {
		if err := exec(&c.FrameworkItems, "framework solution "+f["SolutionId"], `
			INSERT INTO framework_solutions (framework_id, item_id, is_foundation) VALUES ($1, $2, $3)
			ON CONFLICT DO NOTHING`, f["FrameworkId"], f["SolutionId"], f["IsFoundation"] == "1"); err != nil {
			return err
		}
	}

	funding, err := readCSV(files, "order_item_funding_types.csv", "Id", "Name")
	if err != nil {
		return err
	}
	for _, f := range funding {
		if err := exec(&c.FundingTypes, "funding type "+f["Id"], `
			INSERT INTO funding_types (id, name) VALUES ($1::int, $2) ON CONFLICT (id) DO NOTHING`, f["Id"], f["Name"]); err != nil {
			return err
		}
	}
	return nil
}
