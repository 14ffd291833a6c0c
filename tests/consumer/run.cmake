# Installs kpt (headers + kpt::cpu) into a scratch prefix, then configures, builds and runs a
# small project that finds it with find_package(kpt). Invoked by ctest (test install.consumer).
file(REMOVE_RECURSE ${WORK_DIR})
set(prefix ${WORK_DIR}/prefix)
function(run)
  execute_process(COMMAND ${ARGV} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "command failed (${rc}): ${ARGV}\n${out}\n${err}")
  endif()
endfunction()
run(${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${WORK_DIR}/kpt -G ${GENERATOR} -DCMAKE_BUILD_TYPE=Release
    -DKPT_BUILD_TESTS=OFF -DKPT_BUILD_BENCH=OFF -DKPT_BUILD_EXAMPLES=OFF -DKPT_BUILD_TOOLS=OFF -DKPT_CUDA=OFF
    -DCMAKE_INSTALL_PREFIX=${prefix})
run(${CMAKE_COMMAND} --build ${WORK_DIR}/kpt --target install)
run(${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/consumer -B ${WORK_DIR}/app -G ${GENERATOR}
    -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH=${prefix})
run(${CMAKE_COMMAND} --build ${WORK_DIR}/app)
run(${WORK_DIR}/app/consumer)
message(STATUS "consumer project built and ran against ${prefix}")
