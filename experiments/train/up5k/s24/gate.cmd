onespike verify --program up5k-s1.program.json --data ../../../../../shared/data/mnist --images 300 --backends reference,sim,verilator,gate-up
