package views

import (
	"strconv"
	"strings"
)

// PerformancePage is the "Monitor performance" page: over twelve months,
// every region (with a chart of its on-time rate by month), or one region
// and each of its CCGs.
type PerformancePage struct {
	Page Page
	// FirstMonth and LastMonth name the twelve months: December 2025.
	FirstMonth, LastMonth string
	AsAt                  string // when the figures were worked out, in words
	Form                  Form
	Periods, Regions      []Option
	CSVHref               string

	// Every region: one line each with its twelve months' figures, the
	// chart, and each region month by month.
	Summary  PerformanceTable
	Chart    PerformanceChart
	ByRegion []PerformanceRegion
	Overview bool

	// One region: its months, and its CCGs.
	Region PerformanceRegion
	CCGs   PerformanceTable
}

// PerformanceRegion is one region's figures by month.
type PerformanceRegion struct {
	Code, Name, Href string
	Months           PerformanceTable
}

// PerformanceTable is a table of figures, a row each (of a month, a region
// or a CCG), and a last row adding them up.
type PerformanceTable struct {
	ID, Caption, RowHeader string
	Rows                   []PerformanceRow
	Total                  PerformanceRow
}

// PerformanceRow is one row of figures, printed.
type PerformanceRow struct {
	Label, Href                    string
	Due, OnTime, Late, Outstanding string
	Share, AverageLate             string // "" when none was due, or late
	ShareLabel, AverageLateLabel   string // as read out: "none due", "none late"
}

// PerformanceChart is a line chart of the share of returns on time by
// month, a line per series (region).
type PerformanceChart struct {
	Title, Description string
	Months             []ChartMonth
	Series             []ChartSeries
}

// ChartMonth is one month on the chart's horizontal axis.
type ChartMonth struct {
	Short, Year, Name string // "Nov", "2026", "November 2026"
}

// ChartSeries is one line of the chart: a percentage per month, absent
// (OK false) in a month with nothing due.
type ChartSeries struct {
	Name   string
	Values []ChartValue
}

// ChartValue is one point of a series.
type ChartValue struct {
	Percent int
	OK      bool
}

// Text is the value as the data table shows it.
func (v ChartValue) Text() string {
	if !v.OK {
		return "–"
	}
	return strconv.Itoa(v.Percent) + "%"
}

// The chart's geometry, in the units of its viewBox: the axes run from
// chartAxisLeft to chartAxisRight and from chartTop (100%) down to
// chartBottom (0%); the months stand from chartLeft to chartRight, clear
// of the vertical axis.
const (
	chartWidth     = 720
	chartHeight    = 390
	chartAxisLeft  = 72
	chartAxisRight = 708
	chartLeft      = 104
	chartRight     = 676
	chartTop       = 20
	chartBottom    = 320 // chartTop + 3 units per percentage point
)

// chartStyles tell the lines apart by more than colour: each has its own
// marker shape and dash pattern, and every colour has a contrast of at
// least 4.5:1 with the white page (NHS blue, red, green, purple, pink and
// dark grey, and a dark orange).
var chartStyles = []struct {
	colour, dash, marker string
}{
	{"#005eb8", "", "circle"},
	{"#d5281b", "8 4", "square"},
	{"#007f3b", "2 3", "triangle"},
	{"#330072", "10 3 2 3", "diamond"},
	{"#b35c00", "14 5", "down"},
	{"#ae2573", "4 4", "ring"},
	{"#425563", "1 5", "cross"},
}

func chartStyle(i int) (colour, dash, marker string) {
	s := chartStyles[i%len(chartStyles)]
	return s.colour, s.dash, s.marker
}

func chartViewBox() string {
	return "0 0 " + strconv.Itoa(chartWidth) + " " + strconv.Itoa(chartHeight)
}

// chartX is where month i of n stands.
func chartX(i, n int) int {
	if n <= 1 {
		return (chartLeft + chartRight) / 2
	}
	return chartLeft + i*(chartRight-chartLeft)/(n-1)
}

// chartY is where a percentage stands.
func chartY(percent int) int { return chartBottom - percent*(chartBottom-chartTop)/100 }

// chartTick is a gridline of the vertical axis.
type chartTick struct {
	Y     int
	Label string
}

func chartTicks() []chartTick {
	var out []chartTick
	for p := 0; p <= 100; p += 25 {
		out = append(out, chartTick{chartY(p), strconv.Itoa(p) + "%"})
	}
	return out
}

// chartSegments are the series' runs of consecutive months with a value,
// each as the points of a polyline: a month with nothing due breaks the line.
func chartSegments(s ChartSeries) []string {
	var out []string
	var cur []string
	flush := func() {
		if len(cur) > 0 {
			out = append(out, strings.Join(cur, " "))
		}
		cur = nil
	}
	for i, v := range s.Values {
		if !v.OK {
			flush()
			continue
		}
		cur = append(cur, strconv.Itoa(chartX(i, len(s.Values)))+","+strconv.Itoa(chartY(v.Percent)))
	}
	flush()
	return out
}

// chartPoint is one marker of a series.
type chartPoint struct{ X, Y int }

func chartPoints(s ChartSeries) []chartPoint {
	var out []chartPoint
	for i, v := range s.Values {
		if v.OK {
			out = append(out, chartPoint{chartX(i, len(s.Values)), chartY(v.Percent)})
		}
	}
	return out
}

// markerPath is the outline of a marker shape centred on x, y.
func markerPath(shape string, x, y int) string {
	p := func(parts ...int) string {
		var b strings.Builder
		for i := 0; i < len(parts); i += 2 {
			if i == 0 {
				b.WriteString("M")
			} else {
				b.WriteString(" L")
			}
			b.WriteString(strconv.Itoa(x+parts[i]) + " " + strconv.Itoa(y+parts[i+1]))
		}
		b.WriteString(" Z")
		return b.String()
	}
	switch shape {
	case "square":
		return p(-5, -5, 5, -5, 5, 5, -5, 5)
	case "triangle":
		return p(0, -6, 6, 5, -6, 5)
	case "diamond":
		return p(0, -7, 7, 0, 0, 7, -7, 0)
	case "down":
		return p(-6, -5, 6, -5, 0, 6)
	case "cross":
		return p(-2, -6, 2, -6, 2, -2, 6, -2, 6, 2, 2, 2, 2, 6, -2, 6, -2, 2, -6, 2, -6, -2, -2, -2)
	}
	return "" // circle and ring are circles
}

// xLabelY and the rest place the axes' labels.
func chartXLabelY() int { return chartBottom + 22 }
func chartXYearY() int  { return chartBottom + 40 }
func chartXTitleY() int { return chartBottom + 64 }
func chartYTitleX() int { return 18 }
func chartYTitleY() int { return (chartTop + chartBottom) / 2 }
func chartYLabelX() int { return chartAxisLeft - 8 }
func chartMidX() int    { return (chartAxisLeft + chartAxisRight) / 2 }
func chartYTitleTransform() string {
	return "rotate(-90 " + strconv.Itoa(chartYTitleX()) + " " + strconv.Itoa(chartYTitleY()) + ")"
}

func itoa(n int) string { return strconv.Itoa(n) }
