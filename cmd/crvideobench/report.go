package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"
)

// Result is one measured figure of the report.
type Result struct {
	Name string `json:"name"`
	What string `json:"what"`
	// Value is the headline figure in Unit; Better says which way is good.
	Value  float64 `json:"value"`
	Unit   string  `json:"unit"`
	Better string  `json:"better"` // "higher" or "lower"

	Users      int                `json:"users,omitempty"`
	Offered    float64            `json:"offered_per_s,omitempty"`
	Seconds    float64            `json:"seconds"`
	Count      int64              `json:"count"`
	Failed     int64              `json:"failed"`
	Unfinished int64              `json:"unfinished"`
	Rate       float64            `json:"rate_per_s"`
	Lat        *Latency           `json:"latency,omitempty"`
	Extra      map[string]float64 `json:"extra,omitempty"`

	// Floor names the floor result this figure is compared with; Ratio is
	// Value / FloorValue.
	Floor      string  `json:"floor,omitempty"`
	FloorValue float64 `json:"floor_value,omitempty"`
	Ratio      float64 `json:"ratio,omitempty"`
	// Target is the target for this figure, Met whether it holds.
	Target string `json:"target,omitempty"`
	Met    *bool  `json:"met,omitempty"`
	Note   string `json:"note,omitempty"`
}

// Report is the whole run.
type Report struct {
	Date    string    `json:"date"`
	Command string    `json:"command"`
	Machine Machine   `json:"machine"`
	Server  string    `json:"server"` // how the server ran
	Results []*Result `json:"results"`
	Seconds float64   `json:"seconds"`
}

// Machine describes where the run took place.
type Machine struct {
	NProc int    `json:"nproc"`
	CPU   string `json:"cpu"`
	Go    string `json:"go"`
	OS    string `json:"os"`
}

func newReport(args []string) *Report {
	return &Report{
		Date:    time.Now().UTC().Format(time.RFC3339),
		Command: strings.Join(append([]string{"crvideobench"}, args...), " "),
		Machine: Machine{NProc: runtime.NumCPU(), CPU: cpuModel(), Go: runtime.Version(), OS: runtime.GOOS + "/" + runtime.GOARCH},
	}
}

func (r *Report) find(name string) *Result {
	for _, x := range r.Results {
		if x.Name == name {
			return x
		}
	}
	return nil
}

// compare sets res's floor ratio against the floor result named floor.
func (r *Report) compare(res *Result, floor string) {
	f := r.find(floor)
	if f == nil || f.Value == 0 {
		return
	}
	res.Floor, res.FloorValue = floor, f.Value
	res.Ratio = res.Value / f.Value
}

// target records a target and whether res meets it.
func target(res *Result, text string, met bool) {
	res.Target = text
	res.Met = &met
}

func (r *Report) writeJSON(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// writeTable prints the readable table.
func (r *Report) writeTable(w io.Writer) {
	fmt.Fprintf(w, "crvideobench %s — %d × %s, %s\n", r.Date, r.Machine.NProc, r.Machine.CPU, r.Machine.Go)
	fmt.Fprintf(w, "server: %s\n\n", r.Server)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight|tabwriter.Debug)
	fmt.Fprintln(tw, "figure\tvalue\tunit\tcount\tp50 ms\tp90 ms\tp99 ms\tmax ms\tfloor\tratio\ttarget\tmet\t")
	for _, x := range r.Results {
		p50, p90, p99, mx := "", "", "", ""
		if x.Lat != nil {
			p50, p90, p99, mx = f3(x.Lat.P50), f3(x.Lat.P90), f3(x.Lat.P99), f3(x.Lat.Max)
		}
		ratio, met := "", ""
		if x.Floor != "" {
			ratio = fmt.Sprintf("%.2f", x.Ratio)
		}
		if x.Met != nil {
			met = map[bool]string{true: "yes", false: "NO"}[*x.Met]
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", x.Name, fnum(x.Value), x.Unit, x.Count,
			p50, p90, p99, mx, x.Floor, ratio, x.Target, met)
	}
	tw.Flush()
	fmt.Fprintln(w)
	for _, x := range r.Results {
		if x.Note != "" || x.Failed > 0 || x.Unfinished > 0 {
			fmt.Fprintf(w, "%s: %s (failed %d, unfinished %d) %s\n", x.Name, x.What, x.Failed, x.Unfinished, x.Note)
		}
	}
}

func f3(v float64) string { return fmt.Sprintf("%.3f", v) }

func fnum(v float64) string {
	switch {
	case v >= 1000:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.3f", v)
	}
}
