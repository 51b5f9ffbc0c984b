# bench/models.sh's chart: xtgrad/libtorch seconds per step per model, at 1 and N threads,
# with the targets 0.8 and 0.7 (below 1: xtgrad faster).
#   gnuplot -e "datafile='models.dat'; outfile='models.png'; nthreads=2" bench/models.gp
set terminal pngcairo noenhanced size 900,500 font ",11"
set output outfile
set title "xtgrad / libtorch, seconds per training step (lower is better)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set ylabel "xtgrad s/step ÷ libtorch s/step"
set yrange [0:*]
set xrange [-0.5:3.5]
set grid ytics
set key top left
plot datafile using 2:xtic(1) title "1 thread", \
     '' using 3 title sprintf("%d threads", nthreads), \
     0.8 with lines dt 2 lw 2 lc rgb "#d62728" title "target 0.8", \
     0.7 with lines dt 3 lw 2 lc rgb "#2ca02c" title "target 0.7", \
     1.0 with lines lw 1 lc rgb "gray" notitle
