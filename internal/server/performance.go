package server

import (
	"bytes"
	"net/http"
	"net/url"
	"strconv"

	"ccgtracker/internal/apperr"
	"ccgtracker/internal/dates"
	"ccgtracker/internal/export"
	"ccgtracker/internal/org"
	"ccgtracker/internal/tracker"
	"ccgtracker/web/views"
)

// performanceQuery is what the page and the CSV show: the twelve months
// ending with period (by default last month, whose returns fall due this
// month) and, optionally, one region.
type performanceQuery struct {
	period  tracker.Period
	region  string // a region code, or "" for every region
	regions []org.Region
}

func (s *Server) performanceQuery(r *http.Request) (performanceQuery, error) {
	q := r.URL.Query()
	pq := performanceQuery{region: q.Get(views.RegionInput)}
	var ok bool
	if pq.period, ok = tracker.ParsePeriod(q.Get(views.PeriodInput)); !ok {
		pq.period = tracker.PeriodOf(dates.Today(s.now())).Prev()
	}
	var err error
	if pq.regions, err = org.ListRegions(r.Context(), s.pool, currentUser(r).Scope()); err != nil {
		return pq, err
	}
	if pq.region != "" {
		for _, rg := range pq.regions {
			if rg.Code == pq.region {
				return pq, nil
			}
		}
		return pq, apperr.New(apperr.NotFound, "No region has the code %q", pq.region)
	}
	return pq, nil
}

// href is the page (or with ext ".csv" the CSV) for these months and
// region.
func (pq performanceQuery) href(ext, region string) string {
	v := url.Values{views.PeriodInput: {pq.period.String()}}
	if region != "" {
		v.Set(views.RegionInput, region)
	}
	return "/performance" + ext + "?" + v.Encode()
}

func (s *Server) performancePage(w http.ResponseWriter, r *http.Request) error {
	pq, err := s.performanceQuery(r)
	if err != nil {
		return err
	}
	now := s.now()
	perf, err := tracker.PerformanceOf(r.Context(), s.pool, currentUser(r).Scope(), pq.period, now)
	if err != nil {
		return err
	}
	v := views.PerformancePage{
		FirstMonth: perf.Periods[0].Name(), LastMonth: pq.period.Name(),
		AsAt:    now.In(dates.London).Format("15:04 on 2 January 2006"),
		Form:    views.Form{Values: map[string]string{views.PeriodInput: pq.period.String(), views.RegionInput: pq.region}},
		CSVHref: pq.href(".csv", pq.region),
	}
	// The months offered: two years back from this one, and the one shown.
	thisMonth := tracker.PeriodOf(dates.Today(now))
	shown := false
	for m, i := thisMonth, 0; i < 25; m, i = m.Prev(), i+1 {
		v.Periods = append(v.Periods, views.Option{Value: m.String(), Label: m.Name()})
		shown = shown || m == pq.period
	}
	if !shown {
		v.Periods = append(v.Periods, views.Option{Value: pq.period.String(), Label: pq.period.Name()})
	}
	v.Regions = []views.Option{{Value: "", Label: "Every region"}}
	for _, rg := range pq.regions {
		v.Regions = append(v.Regions, views.Option{Value: rg.Code, Label: rg.Name})
	}

	crumbs := []views.Link{{Label: "Dashboard", Href: "/"}}
	title := "Monitor performance"
	if pq.region == "" {
		v.Overview = true
		v.Summary = views.PerformanceTable{ID: "performance-regions", RowHeader: "Region",
			Caption: "Each region's returns, " + perf.Periods[0].Name() + " to " + pq.period.Name(),
			Total:   performanceRow("England", "", perf.Total)}
		v.Chart = views.PerformanceChart{
			Title: "Share of returns on time by month, per region, " + perf.Periods[0].Name() + " to " + pq.period.Name(),
			Description: "A line chart with a line for each of the " + strconv.Itoa(len(perf.Regions)) +
				" regions, of the percentage of due returns made on time for each month from " +
				perf.Periods[0].Name() + " to " + pq.period.Name() + ", on a scale from 0% to 100%. The table after the chart gives the same figures.",
		}
		for _, p := range perf.Periods {
			v.Chart.Months = append(v.Chart.Months, views.ChartMonth{Short: p.First().Format("Jan"), Year: p.First().Format("2006"), Name: p.Name()})
		}
		for _, rg := range perf.Regions {
			v.Summary.Rows = append(v.Summary.Rows, performanceRow(rg.Name, pq.href("", rg.Code), rg.Total))
			series := views.ChartSeries{Name: rg.Name}
			for _, m := range rg.Months {
				p, ok := m.OnTimePercent()
				series.Values = append(series.Values, views.ChartValue{Percent: p, OK: ok})
			}
			v.Chart.Series = append(v.Chart.Series, series)
			v.ByRegion = append(v.ByRegion, performanceRegion(perf, rg, pq))
		}
	} else {
		rg, _ := perf.Region(pq.region)
		if rg.Name == "" { // no CCG of the region in scope
			for _, o := range pq.regions {
				if o.Code == pq.region {
					rg = tracker.RegionPerformance{Code: o.Code, Name: o.Name, Months: make([]tracker.Figures, len(perf.Periods))}
				}
			}
		}
		v.Region = performanceRegion(perf, rg, pq)
		v.Region.Href = pq.href("", "")
		v.CCGs = views.PerformanceTable{ID: "performance-ccgs", RowHeader: "CCG",
			Caption: "Each CCG's returns in " + rg.Name + ", " + perf.Periods[0].Name() + " to " + pq.period.Name(),
			Total:   performanceRow(rg.Name, "", rg.Total)}
		for _, c := range rg.CCGs {
			v.CCGs.Rows = append(v.CCGs.Rows, performanceRow(c.Name+" ("+c.Code+")", "/ccgs/"+c.Code+"/returns", c.Total))
		}
		title += ": " + rg.Name
		crumbs = append(crumbs, views.Link{Label: "Monitor performance", Href: pq.href("", "")})
	}
	v.Page = s.page(r, title, crumbs...)
	s.render(w, r, http.StatusOK, views.Performance(v))
	return nil
}

// performanceRegion is a region's table of months.
func performanceRegion(perf tracker.Performance, rg tracker.RegionPerformance, pq performanceQuery) views.PerformanceRegion {
	out := views.PerformanceRegion{Code: rg.Code, Name: rg.Name, Href: pq.href("", rg.Code),
		Months: views.PerformanceTable{ID: "performance-months", RowHeader: "Month",
			Caption: rg.Name + " by month, " + perf.Periods[0].Name() + " to " + pq.period.Name(),
			Total:   performanceRow("All 12 months", "", rg.Total)}}
	for i, p := range perf.Periods {
		out.Months.Rows = append(out.Months.Rows, performanceRow(p.Name(), "", rg.Months[i]))
	}
	return out
}

// performanceRow prints one row of figures.
func performanceRow(label, href string, f tracker.Figures) views.PerformanceRow {
	return views.PerformanceRow{
		Label: label, Href: href,
		Due: views.Number(f.Due), OnTime: views.Number(f.OnTime), Late: views.Number(f.Late), Outstanding: views.Number(f.Outstanding),
		Share: f.OnTimeText(), ShareLabel: "none due",
		AverageLate: f.AverageDaysLateText(), AverageLateLabel: "none late",
	}
}

// performanceCSV is the page's figures as a spreadsheet: for England, each
// region and each CCG (or one region and its CCGs), a row per month and
// one for the twelve months, under a file name the server chooses.
func (s *Server) performanceCSV(w http.ResponseWriter, r *http.Request) error {
	pq, err := s.performanceQuery(r)
	if err != nil {
		return err
	}
	perf, err := tracker.PerformanceOf(r.Context(), s.pool, currentUser(r).Scope(), pq.period, s.now())
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	c := export.NewCSV(&buf)
	if err := c.Text("Level", "Region code", "Region", "CCG code", "CCG", "Month",
		"Due", "On time", "Late", "Share on time (%)", "Average days late", "Days late in total", "Outstanding"); err != nil {
		return err
	}
	all := perf.Periods[0].String() + " to " + pq.period.String()
	rows := func(level, regionCode, regionName, ccgCode, ccgName string, months []tracker.Figures, total tracker.Figures) error {
		for i := range len(months) + 1 {
			month, f := all, total
			if i < len(months) {
				month, f = perf.Periods[i].String(), months[i]
			}
			share, _ := f.OnTimePercent()
			shareText := strconv.Itoa(share)
			if f.Due == 0 {
				shareText = ""
			}
			if err := c.Row(export.Str(level), export.Str(regionCode), export.Str(regionName), export.Str(ccgCode), export.Str(ccgName),
				export.Str(month), export.Num(strconv.Itoa(f.Due)), export.Num(strconv.Itoa(f.OnTime)), export.Num(strconv.Itoa(f.Late)),
				export.Num(shareText), export.Num(f.AverageDaysLateText()), export.Num(strconv.Itoa(f.DaysLate)),
				export.Num(strconv.Itoa(f.Outstanding))); err != nil {
				return err
			}
		}
		return nil
	}
	if pq.region == "" {
		if err := rows("England", "", "", "", "", perf.Months, perf.Total); err != nil {
			return err
		}
	}
	for _, rg := range perf.Regions {
		if pq.region != "" && rg.Code != pq.region {
			continue
		}
		if err := rows("Region", rg.Code, rg.Name, "", "", rg.Months, rg.Total); err != nil {
			return err
		}
		for _, cg := range rg.CCGs {
			if err := rows("CCG", rg.Code, rg.Name, cg.Code, cg.Name, cg.Months, cg.Total); err != nil {
				return err
			}
		}
	}
	if err := c.Flush(); err != nil {
		return err
	}
	name := "performance-" + pq.period.String() + ".csv"
	if pq.region != "" {
		name = "performance-" + pq.region + "-" + pq.period.String() + ".csv"
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.Header().Set("Cache-Control", "no-store")
	_, err = w.Write(buf.Bytes())
	return err
}
