import RingCore
print("benchmarks: todo")
