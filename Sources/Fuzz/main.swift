print("Fuzz: build with -DFUZZING")
