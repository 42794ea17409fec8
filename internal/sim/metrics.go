package sim

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// ServerMetrics are the figures scraped from the server's /metrics.
type ServerMetrics struct {
	At         time.Time
	CPUSeconds float64 // process_cpu_seconds_total
	RSSBytes   float64 // process_resident_memory_bytes
	HeapInuse  float64 // go_memstats_heap_inuse_bytes
	Goroutines float64 // go_goroutines
	// Values holds every unlabelled sample of the families read
	// (process_*, go_memstats_*, go_goroutines, ...), by name.
	Values map[string]float64
}

// ScrapeMetrics reads a Prometheus text-format page.
func ScrapeMetrics(ctx context.Context, client *http.Client, url string) (ServerMetrics, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return ServerMetrics{}, err
	}
	req.Header.Set("Accept", "text/plain")
	resp, err := client.Do(req)
	if err != nil {
		return ServerMetrics{}, fmt.Errorf("scraping %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return ServerMetrics{}, fmt.Errorf("scraping %s: %s", url, resp.Status)
	}
	m, err := parseMetrics(resp.Body)
	if err != nil {
		return ServerMetrics{}, fmt.Errorf("scraping %s: %w", url, err)
	}
	if _, ok := m.Values["process_cpu_seconds_total"]; !ok {
		return m, fmt.Errorf("scraping %s: no process_cpu_seconds_total (is this the server's /metrics?)", url)
	}
	return m, nil
}

// parseMetrics reads the unlabelled samples of a Prometheus text page.
func parseMetrics(r io.Reader) (ServerMetrics, error) {
	m := ServerMetrics{At: time.Now(), Values: map[string]float64{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || strings.ContainsRune(line, '{') {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) < 2 {
			continue
		}
		v, err := strconv.ParseFloat(fields[1], 64)
		if err != nil || math.IsNaN(v) {
			continue
		}
		m.Values[fields[0]] = v
	}
	if err := sc.Err(); err != nil {
		return m, err
	}
	m.CPUSeconds = m.Values["process_cpu_seconds_total"]
	m.RSSBytes = m.Values["process_resident_memory_bytes"]
	m.HeapInuse = m.Values["go_memstats_heap_inuse_bytes"]
	m.Goroutines = m.Values["go_goroutines"]
	return m, nil
}

// selfRSS returns this process's resident memory in bytes (Linux; 0 elsewhere).
func selfRSS() float64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseFloat(f[1], 64)
	return pages * float64(os.Getpagesize())
}

// selfCPU returns this process's CPU time in seconds (Linux; 0 elsewhere).
func selfCPU() float64 {
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return 0
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (ut + st) / 100 // USER_HZ is 100 on Linux
}
