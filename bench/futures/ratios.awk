# ratios.awk: summarise `go test -bench` output of this package.
#   go test -run '^$' -bench . -benchmem -count 5 ./futures/ | awk -f futures/ratios.awk
# For each benchmark and library it prints the medians over the -count runs
# of ns/op (wall clock) and cpu-ns/op (process CPU time, see measure in
# futures_test.go), B/op and allocs/op, and goasync's medians divided by
# the library's (below 1.00x: goasync is faster).
/^Benchmark/ {
	split($1, parts, "/")
	bench = parts[1]; sub(/^Benchmark/, "", bench)
	lib = parts[2]; sub(/-[0-9]+$/, "", lib)
	key = bench SUBSEP lib
	k = ++n[key]
	for (i = 3; i < NF; i++) {
		if ($(i + 1) == "ns/op") wall[key, k] = $i + 0
		else if ($(i + 1) == "cpu-ns/op") cpu[key, k] = $i + 0
		else if ($(i + 1) == "B/op") bytes[key] = $i
		else if ($(i + 1) == "allocs/op") allocs[key] = $i
	}
	if (!(bench in seenb)) { seenb[bench] = 1; order[++nb] = bench }
	if (!((bench, lib) in seenl)) { seenl[bench, lib] = 1; libs[bench] = libs[bench] " " lib }
}
function median(arr, key,    i, j, t, m, a) {
	m = n[key]
	for (i = 1; i <= m; i++) a[i] = arr[key, i]
	for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
	if (m % 2) return a[(m + 1) / 2]
	return (a[m / 2] + a[m / 2 + 1]) / 2
}
END {
	printf "| benchmark | library | ns/op | cpu-ns/op | B/op | allocs/op | goasync / library (ns/op) | goasync / library (cpu-ns/op) |\n"
	printf "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |\n"
	for (b = 1; b <= nb; b++) {
		bench = order[b]
		ow = median(wall, bench SUBSEP "goasync")
		oc = median(cpu, bench SUBSEP "goasync")
		cnt = split(substr(libs[bench], 2), ls, " ")
		for (i = 1; i <= cnt; i++) {
			key = bench SUBSEP ls[i]
			w = median(wall, key); c = median(cpu, key)
			printf "| %s | %s | %.0f | %.0f | %s | %s | %.2fx | %.2fx |\n", bench, ls[i], w, c, bytes[key], allocs[key], ow / w, (c > 0 ? oc / c : 0)
		}
	}
}
