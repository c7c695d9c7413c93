# ratios.awk: summarise `go test -bench` output of this package.
# For each benchmark and library: the median ns/op over the -count runs,
# B/op and allocs/op, and the ratio of goasync's median to that library's
# (below 1.0: goasync is faster).
#   go test -run '^$' -bench . -benchmem -count 5 ./futures/ | awk -f futures/ratios.awk
/^Benchmark/ {
	split($1, parts, "/")
	bench = parts[1]; sub(/^Benchmark/, "", bench)
	lib = parts[2]; sub(/-[0-9]+$/, "", lib)
	key = bench SUBSEP lib
	n[key]++
	ns[key, n[key]] = $3 + 0
	bytes[key] = $5; allocs[key] = $7
	if (!(bench in seenb)) { seenb[bench] = 1; order[++nb] = bench }
	if (!((bench, lib) in seenl)) { seenl[bench, lib] = 1; libs[bench] = libs[bench] " " lib }
}
function median(key,    i, j, t, m, a) {
	m = n[key]
	for (i = 1; i <= m; i++) a[i] = ns[key, i]
	for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
	if (m % 2) return a[(m + 1) / 2]
	return (a[m / 2] + a[m / 2 + 1]) / 2
}
END {
	printf "| benchmark | library | median ns/op | B/op | allocs/op | goasync / library |\n"
	printf "| --- | --- | ---: | ---: | ---: | ---: |\n"
	for (b = 1; b <= nb; b++) {
		bench = order[b]
		ours = median(bench SUBSEP "goasync")
		cnt = split(substr(libs[bench], 2), ls, " ")
		for (i = 1; i <= cnt; i++) {
			key = bench SUBSEP ls[i]
			med = median(key)
			printf "| %s | %s | %.0f | %s | %s | %.2fx |\n", bench, ls[i], med, bytes[key], allocs[key], ours / med
		}
	}
}
