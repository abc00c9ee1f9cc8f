// The translation unit that carries a precompiled header (CMakeLists.txt, troupe_pch).
