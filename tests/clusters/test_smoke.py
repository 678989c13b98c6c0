def test_world_builds(world):
    assert world.lcs_payroll.service_id == world.payroll.pk


def test_departments_list(world, api):
    response = api.as_user(world.analyst).get("/api/v1/departments/")
    assert response.status_code == 200, response.content
    assert response.json()["count"] == 4
